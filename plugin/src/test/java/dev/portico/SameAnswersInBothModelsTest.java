package dev.portico;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.HttpTestClient;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;
import dev.portico.testsupport.TextWebSocket;

/**
 * Issue 4, item 4: the same sample WAR, flipped between the hosting models by the one attribute,
 * gives the same answers on every endpoint of sample-war. One front Tomcat hosts two copies:
 * {@code /inproc} (no portico.xml: in-process) and {@code /outproc} (WEB-INF/portico.xml with
 * {@code hostingModel="outOfProcess"}: a child JVM under the WAR runner). Every check runs against
 * both; where the models legitimately differ (hostingModel, pid, /crash, the proxy's own headers)
 * the difference is asserted explicitly and explained.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SameAnswersInBothModelsTest {

    static final String IN = "/inproc";
    static final String OUT = "/outproc";
    /** In-process again, but with the crash flag set: the guard must hold on the model, not only on the flag. */
    private static final String IN_FLAGGED = "/inprocflagged";
    private static final Duration FIRST_START = Duration.ofSeconds(120);
    private static final Duration REQUEST = Duration.ofSeconds(60);
    private static final String CRASH_FLAG = "    <environmentVariable name=\"PORTICO_SAMPLE_ALLOW_CRASH\" value=\"true\"/>\n";

    /** Every child JVM seen, so that none can outlive the test class. */
    private static final Set<Long> childPids = ConcurrentHashMap.newKeySet();
    // naming on, as in the Tomcat distribution: in-process environmentVariables become JNDI entries
    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(HostingTomcat.CHILD_JVM_LIMITS, Tomcat::enableNaming);

    @BeforeAll
    static void start() throws Exception {
        tomcat.deploySample(IN.substring(1), null);
        tomcat.deploySample(OUT.substring(1), "<portico hostingModel=\"outOfProcess\""
                + " jvmOptions=\"-Xmx128m -XX:TieredStopAtLevel=1 -Xshare:auto\">\n"
                + "  <environmentVariables>\n" + CRASH_FLAG + "  </environmentVariables>\n</portico>\n");
        tomcat.deploySample(IN_FLAGGED.substring(1), "<portico hostingModel=\"inProcess\">\n"
                + "  <environmentVariables>\n" + CRASH_FLAG + "  </environmentVariables>\n</portico>\n");
        assertTrue(tomcat.valve().getHostedApps().get(IN).startsWith("in-process"), tomcat.valve().getHostedApps().toString());
        assertTrue(tomcat.valve().getHostedApps().get(OUT).contains("WAR runner"), tomcat.valve().getHostedApps().toString());
        // first requests start both apps (the child JVM may take a while on a busy machine)
        for (String app : List.of(IN, OUT)) {
            HttpResponse<String> info = tomcat.send(HttpRequest.newBuilder(tomcat.uri(app + "/info"))
                    .timeout(FIRST_START).build());
            assertEquals(200, info.statusCode(), app + ": " + info.body());
            rememberPid(info.body());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            tomcat.close();
        } finally {
            // the valve stops its children with Tomcat; make sure, and fail if one was left
            List<Long> leftovers = new ArrayList<>();
            for (long pid : childPids) {
                Optional<ProcessHandle> child = ProcessHandle.of(pid);
                if (child.isPresent() && child.get().isAlive()) {
                    Poll.until(Duration.ofSeconds(5), "child " + pid + " gone", () -> !child.get().isAlive());
                }
                child.filter(ProcessHandle::isAlive).ifPresent(handle -> {
                    leftovers.add(pid);
                    handle.descendants().forEach(ProcessHandle::destroyForcibly);
                    handle.destroyForcibly();
                });
            }
            assertEquals(List.of(), leftovers, "child JVMs alive after Tomcat stopped (killed now)");
        }
    }

    // ------------------------------------------------------------------------------------ /info

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {IN, OUT})
    @Order(1)
    void infoShowsTheRequestAsTheClientSentIt(String app) {
        Map<String, Object> info = json(get(app + "/info?x=1"));
        assertEquals("http", info.get("scheme"), app);
        assertEquals(false, info.get("secure"), app);
        assertEquals("127.0.0.1", info.get("remoteAddr"), app);
        assertEquals("127.0.0.1", info.get("serverName"), app);
        assertEquals((long) tomcat.uri("/").getPort(), info.get("serverPort"), app);
        assertEquals(app, info.get("contextPath"), app);
        assertEquals(app + "/info", info.get("requestURI"), app);
        assertEquals(null, info.get("principal"), app);
        long pid = ((Number) info.get("pid")).longValue();
        if (app.equals(IN)) {
            assertEquals("inProcess", info.get("hostingModel"));
            assertEquals(ProcessHandle.current().pid(), pid, "in-process: the front Tomcat's own JVM");
        } else {
            assertEquals("outOfProcess", info.get("hostingModel"));
            assertNotEquals(ProcessHandle.current().pid(), pid, "out-of-process: a JVM of its own");
            assertEquals(Optional.of(ProcessHandle.current().pid()),
                    ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid),
                    "the WAR runner is a child of the front Tomcat's JVM");
        }
        // the context root itself is mapped (""), in both: no /app -> /app/ redirect
        for (String root : List.of(app, app + "/")) {
            Map<String, Object> atRoot = json(get(root));
            assertEquals(root, atRoot.get("requestURI"), root);
            assertEquals(app, atRoot.get("contextPath"), root);
        }
    }

    /** The same /info side by side: everything equal once made relative to the app, except the two fields that must differ. */
    @Test
    @Order(2)
    void infoIsTheSameInBothModelsExceptHostingModelAndPid() {
        Map<String, Object> in = json(get(IN + "/info?x=1"));
        Map<String, Object> out = json(get(OUT + "/info?x=1"));
        for (Map<String, Object> info : List.of(in, out)) {
            String contextPath = (String) info.get("contextPath");
            info.put("contextPath", "<app>");
            info.put("requestURI", "<app>" + ((String) info.get("requestURI")).substring(contextPath.length()));
            String url = (String) info.get("requestURL");
            int path = url.indexOf(contextPath + "/info");
            info.put("requestURL", url.substring(0, path) + "<app>" + url.substring(path + contextPath.length()));
        }
        // the two fields that must differ: what the app is told about its hosting, and the JVM it runs in
        assertEquals("inProcess", in.remove("hostingModel"));
        assertEquals("outOfProcess", out.remove("hostingModel"));
        assertNotEquals(in.remove("pid"), out.remove("pid"));
        assertEquals(in, out, "every other /info field is the same in both models");
        assertEquals(Set.of("scheme", "secure", "remoteAddr", "serverName", "serverPort", "contextPath",
                "requestURI", "requestURL", "principal", "authType", "inRole", "clientCertificate", "env"), in.keySet(),
                "no field left unchecked");
        assertEquals(tomcat.uri("/").toString().replaceAll("/$", "") + "<app>/info", in.get("requestURL"));
    }

    // ------------------------------------------------------------------------------------ /echo

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {IN, OUT})
    @Order(3)
    void echoSeesMethodQueryHeadersAndAMegabyteBody(String app) {
        byte[] body = new byte[1024 * 1024 + 17];
        new Random(4).nextBytes(body);
        HttpResponse<String> response = tomcat.send(HttpRequest.newBuilder(tomcat.uri(app + "/echo?a=1&b=%2F&c=%C3%A9"))
                .timeout(REQUEST)
                .header("Content-Type", "application/octet-stream")
                .header("X-Custom", "kept as sent")
                .header("X-Multi", "one")
                .header("X-Multi", "two")
                .header("Accept-Language", "fr-CH, fr;q=0.9")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build());
        assertEquals(200, response.statusCode(), response.body());
        Map<String, Object> echo = json(response);
        assertEquals("PUT", echo.get("method"));
        assertEquals("a=1&b=%2F&c=%C3%A9", echo.get("queryString"));
        assertEquals((long) body.length, echo.get("bodyLength"));
        assertEquals(sha256(body), echo.get("bodySha256"));
        Map<String, List<String>> headers = headers(echo);
        assertEquals(List.of("application/octet-stream"), headers.get("content-type"), app);
        assertEquals(List.of("kept as sent"), headers.get("x-custom"), app);
        assertEquals(List.of("one", "two"), headers.get("x-multi"), app);
        assertEquals(List.of("fr-CH, fr;q=0.9"), headers.get("accept-language"), app);
        assertEquals(List.of(Integer.toString(body.length)), headers.get("content-length"), app);
        assertNotNull(headers.get("user-agent"), app);
        assertEquals(headers.get("user-agent").size(), 1, app);
        assertFalse(headers.containsKey("x-portico-token"), app + ": the pairing token never reaches the app");
    }

    /**
     * The header sets side by side. The client's own headers arrive the same in both models; what
     * an out-of-process app sees in addition is the hop from the front to it (Portico's forwarded
     * headers), which is the one legitimate difference.
     */
    @Test
    @Order(4)
    void echoHeadersDifferOnlyByTheForwardingHop() {
        Map<String, List<String>> in = headers(json(get(IN + "/echo", "X-Custom", "same")));
        Map<String, List<String>> out = headers(json(get(OUT + "/echo", "X-Custom", "same")));
        Set<String> onlyOut = new TreeSet<>(out.keySet());
        onlyOut.removeAll(in.keySet());
        Set<String> onlyIn = new TreeSet<>(in.keySet());
        onlyIn.removeAll(out.keySet());
        // Content-Length: 0 on a GET: the client sent it and the in-process app sees it as sent; the
        // proxy re-frames the request and sends a bodiless GET without it (the same request in HTTP
        // terms). Requests with a body keep their Content-Length (see the echo test above).
        assertEquals(List.of("0"), in.get("content-length"));
        assertFalse(out.containsKey("content-length"), out.toString());
        onlyIn.remove("content-length");
        assertEquals(Set.of(), onlyIn, "every header the in-process app sees reaches the out-of-process app too: " + in + " / " + out);
        // Portico's forwarding headers: the integration reads them to rebuild scheme, client address,
        // host and path base (see /info above, equal in both), and leaves them visible.
        Set<String> forwarding = Set.of("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
                "x-forwarded-prefix", "x-forwarded-port", "via", "forwarded");
        assertTrue(forwarding.containsAll(onlyOut), "out-of-process adds only forwarding headers, but added "
                + onlyOut + ": " + out);
        Map<String, List<String>> differing = new TreeMap<>();
        for (String name : in.keySet()) {
            if (!in.get(name).equals(out.get(name))) {
                differing.put(name, out.get(name));
            }
        }
        // Host: both apps see the client's Host (preserveHostHeader, on by default, as ANCM keeps it);
        // the out-of-process app has it in X-Forwarded-Host as well.
        assertEquals(List.of("127.0.0.1:" + tomcat.uri("/").getPort()), in.get("host"));
        assertEquals(in.get("host"), out.get("host"));
        assertEquals(in.get("host"), out.get("x-forwarded-host"));
        differing.remove("content-length");
        assertEquals(Map.of(), differing, "headers with other values out-of-process (in-process: " + in + ")");
    }

    /** Response headers an app sets reach the client the same way in both models. */
    @Test
    @Order(4)
    void responseHeadersAreTheSame() {
        for (String path : List.of("/info", "/hello.jsp", "/session", "/download?bytes=10")) {
            HttpResponse<String> in = get(IN + path);
            HttpResponse<String> out = get(OUT + path);
            Map<String, List<String>> inHeaders = new TreeMap<>(in.headers().map());
            Map<String, List<String>> outHeaders = new TreeMap<>(out.headers().map());
            for (Map<String, List<String>> headers : List.of(inHeaders, outHeaders)) {
                headers.remove("date"); // the time of the answer
                if (!path.startsWith("/download")) {
                    // these bodies name the app, whose path has another length: only whether it is set
                    headers.computeIfPresent("content-length", (name, values) -> List.of("<n>"));
                }
                // the session cookie: another id, and the app's own path
                headers.computeIfPresent("set-cookie", (name, values) -> values.stream()
                        .map(v -> v.replaceAll("JSESSIONID=[0-9A-F]+", "JSESSIONID=<id>")
                                .replace("Path=" + IN, "Path=<app>").replace("Path=" + OUT, "Path=<app>")).toList());
            }
            // Content-Type: Jetty's HTTP parser (in the forwarding servlet's client) swaps a well-known
            // value for its cached lower-case form ("charset=UTF-8" -> "charset=utf-8"). Charset names
            // are case-insensitive (RFC 9110 8.3.2), so the value means the same.
            List<String> inType = inHeaders.remove("content-type");
            List<String> outType = outHeaders.remove("content-type");
            assertEquals(inType.size(), 1, path);
            assertEquals(inType.get(0).toLowerCase(Locale.ROOT), outType.get(0).toLowerCase(Locale.ROOT), path);
            assertEquals(inHeaders, outHeaders, path);
        }
    }

    // ------------------------------------------------------------------------------------ /sse, /slow

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {IN, OUT})
    @Order(5)
    void serverSentEventsArriveLive(String app) throws Exception {
        int count = 4;
        long intervalMs = 700;
        HttpResponse<InputStream> response = tomcat.client().send(HttpRequest.newBuilder(
                tomcat.uri(app + "/sse?count=" + count + "&intervalMs=" + intervalMs)).timeout(REQUEST).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"),
                response.headers().map().toString());
        List<String> events = new ArrayList<>();
        long firstAt = -1;
        long lastAt = -1;
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                if (line.startsWith("data: ")) {
                    events.add(line);
                    lastAt = System.nanoTime();
                    if (firstAt < 0) {
                        firstAt = lastAt;
                    }
                }
            }
        }
        assertEquals(List.of("data: 1", "data: 2", "data: 3", "data: 4"), events);
        // live: the first event arrived (count-1) intervals before the last one, not with it at the end.
        // Relative times only, so a slow machine does not matter; half the nominal spread is the bar.
        long spreadMs = (lastAt - firstAt) / 1_000_000;
        assertTrue(spreadMs >= (count - 1) * intervalMs / 2, app + ": first event only " + spreadMs
                + " ms before the last; the stream was buffered");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {IN, OUT})
    @Order(6)
    void slowAnswersAfterTheDelay(String app) {
        long begin = System.nanoTime();
        Map<String, Object> slow = json(get(app + "/slow?ms=1200"));
        long elapsedMs = (System.nanoTime() - begin) / 1_000_000;
        assertEquals(1200L, slow.get("sleptMs"));
        assertTrue(elapsedMs >= 1200, app + ": answered after " + elapsedMs + " ms");
    }

    // ------------------------------------------------------------------------------------ /download, /upload

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {IN, OUT})
    @Order(7)
    void downloadsFiveMegabytesIntact(String app) throws Exception {
        int size = 5 * 1024 * 1024;
        byte[] expected = new byte[size];
        for (int i = 0; i < size; i++) {
            expected[i] = (byte) (i % 251);
        }
        HttpResponse<InputStream> response = tomcat.client().send(HttpRequest.newBuilder(
                tomcat.uri(app + "/download?bytes=" + size)).timeout(REQUEST).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertEquals(Optional.of(Integer.toString(size)), response.headers().firstValue("Content-Length"),
                app + ": " + response.headers().map());
        MessageDigest digest = sha256();
        long received = 0;
        try (InputStream in = response.body()) {
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
                received += n;
            }
        }
        assertEquals(size, received, app);
        assertEquals(sha256(expected), HexFormat.of().formatHex(digest.digest()), app);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {IN, OUT})
    @Order(8)
    void uploadsMultipartParts(String app) {
        byte[] file = new byte[1536 * 1024]; // over the sample's 1 MB threshold: written to disk
        new Random(8).nextBytes(file);
        byte[] note = "héllo, parts".getBytes(StandardCharsets.UTF_8);
        String boundary = "portico-boundary-7d1f";
        ByteArrayOutputStream multipart = new ByteArrayOutputStream();
        multipart.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"note\"\r\n"
                + "Content-Type: text/plain; charset=UTF-8\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        multipart.writeBytes(note);
        multipart.writeBytes(("\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; "
                + "filename=\"data.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        multipart.writeBytes(file);
        multipart.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> response = tomcat.send(HttpRequest.newBuilder(tomcat.uri(app + "/upload"))
                .timeout(REQUEST)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(multipart.toByteArray())).build());
        assertEquals(200, response.statusCode(), response.body());
        Map<String, Object> expectedNote = new LinkedHashMap<>();
        expectedNote.put("name", "note");
        expectedNote.put("filename", null);
        expectedNote.put("size", (long) note.length);
        expectedNote.put("sha256", sha256(note));
        Map<String, Object> expectedFile = new LinkedHashMap<>();
        expectedFile.put("name", "file");
        expectedFile.put("filename", "data.bin");
        expectedFile.put("size", (long) file.length);
        expectedFile.put("sha256", sha256(file));
        assertEquals(Map.of("parts", List.of(expectedNote, expectedFile)), json(response), app);
    }

    // ------------------------------------------------------------------------------------ /session, /hello.jsp

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {IN, OUT})
    @Order(9)
    void sessionCounterFollowsTheCookie(String app) throws Exception {
        HttpTestClient browser = tomcat.http().withCookies();
        HttpResponse<String> first = browser.send(browser.request(app + "/session").timeout(REQUEST).build());
        String setCookie = first.headers().firstValue("Set-Cookie").orElseThrow(
                () -> new AssertionError(app + ": no Set-Cookie in " + first.headers().map()));
        // the session cookie is scoped to the app's path as the client sees it, in both models
        assertTrue(setCookie.startsWith("JSESSIONID="), setCookie);
        assertTrue(setCookie.contains("Path=" + app + ";") || setCookie.endsWith("Path=" + app), setCookie);
        assertTrue(setCookie.contains("HttpOnly"), setCookie);
        HttpResponse<String> second = browser.send(browser.request(app + "/session").timeout(REQUEST).build());
        Map<String, Object> one = json(first);
        Map<String, Object> two = json(second);
        assertEquals(1L, one.get("count"), app);
        assertEquals(2L, two.get("count"), app);
        assertEquals(one.get("sessionId"), two.get("sessionId"), app);
        assertEquals(1L, json(get(app + "/session")).get("count"), app + ": no cookie, new session");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {IN, OUT})
    @Order(10)
    void jspIsCompiledAndServed(String app) {
        HttpResponse<String> response = tomcat.get(app + "/hello.jsp");
        assertEquals(200, response.statusCode(), response.body());
        // the page declares text/plain; charset in either case (see responseHeadersAreTheSame)
        assertEquals("text/plain;charset=utf-8",
                response.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT), app);
        assertTrue(response.body().contains("Hello from JSP"), response.body());
        assertTrue(response.body().contains("contextPath=" + app), response.body());
    }

    // ------------------------------------------------------------------------------------ /ws/echo

    /** In-process the endpoint is the front's own WebSocket support; out-of-process the upgrade is tunnelled. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {IN, OUT})
    @Order(11)
    void webSocketEndpointEchoes(String app) throws Exception {
        assertEquals("echo: ping " + app, TextWebSocket.roundTrip(tomcat.client(),
                java.net.URI.create("ws://127.0.0.1:" + tomcat.port() + app + "/ws/echo"), "ping " + app,
                Duration.ofSeconds(30), Duration.ofSeconds(10)));
    }

    // ------------------------------------------------------------------------------------ /crash (last)

    /**
     * The one endpoint meant to answer differently: in-process the sample would halt the front
     * Tomcat itself, so it refuses (403) — even with the crash flag set — and everything keeps
     * serving; out-of-process it answers 202 and halts its own JVM, and Portico starts a new one on
     * the next request.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {IN, OUT})
    @Order(11)
    void crashOnlyEndsAnOutOfProcessApp(String app) {
        if (app.equals(IN)) {
            for (String inProcess : List.of(IN, IN_FLAGGED)) {
                HttpResponse<String> refused = post(inProcess + "/crash");
                assertEquals(403, refused.statusCode(), inProcess + ": " + refused.body());
                assertEquals("inProcess", json(refused).get("hostingModel"), inProcess);
            }
            assertEquals(ProcessHandle.current().pid(), ((Number) json(get(IN + "/info")).get("pid")).longValue(),
                    "the front Tomcat still serves");
            return;
        }
        long before = ((Number) json(get(OUT + "/info")).get("pid")).longValue();
        ProcessHandle child = ProcessHandle.of(before).orElseThrow(() -> new AssertionError("child " + before + " alive"));
        HttpResponse<String> crashing = post(OUT + "/crash");
        assertEquals(202, crashing.statusCode(), crashing.body());
        assertEquals(before, ((Number) json(crashing).get("pid")).longValue());
        Poll.until(Duration.ofSeconds(30), "crashed child " + before + " gone", () -> !child.isAlive());
        // the next requests start a new process (a first one may still see the crash: 502)
        long deadline = System.nanoTime() + FIRST_START.toNanos();
        Map<String, Object> info = null;
        List<Integer> seen = new ArrayList<>();
        while (info == null) {
            HttpResponse<String> response = tomcat.send(HttpRequest.newBuilder(tomcat.uri(OUT + "/info"))
                    .timeout(FIRST_START).build());
            seen.add(response.statusCode());
            if (response.statusCode() == 200) {
                info = json(response);
            } else if (System.nanoTime() > deadline) {
                fail("no restarted process within " + FIRST_START + "; statuses " + seen + ", last: " + response.body());
            } else {
                sleep(200);
            }
        }
        long after = ((Number) info.get("pid")).longValue();
        childPids.add(after);
        assertNotEquals(before, after, "a new process");
        assertTrue(ProcessHandle.of(after).map(ProcessHandle::isAlive).orElse(false));
        assertEquals("outOfProcess", info.get("hostingModel"));
        assertEquals(ProcessHandle.current().pid(), ((Number) json(get(IN + "/info")).get("pid")).longValue(),
                "the in-process app was not affected");
    }

    // ------------------------------------------------------------------------------------ helpers

    private static HttpResponse<String> get(String path, String... headers) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(tomcat.uri(path)).timeout(REQUEST);
        if (headers.length > 0) {
            builder.headers(headers);
        }
        HttpResponse<String> response = tomcat.send(builder.build());
        assertEquals(200, response.statusCode(), path + ": " + response.body());
        return response;
    }

    private static HttpResponse<String> post(String path) {
        return tomcat.send(HttpRequest.newBuilder(tomcat.uri(path)).timeout(REQUEST)
                .POST(HttpRequest.BodyPublishers.noBody()).build());
    }

    private static Map<String, Object> json(HttpResponse<String> response) {
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                response.uri() + ": " + response.headers().map());
        return Json.object(response.body());
    }

    /** The echoed headers, names lower-cased (HTTP header names are case-insensitive). */
    @SuppressWarnings("unchecked")
    private static Map<String, List<String>> headers(Map<String, Object> echo) {
        Map<String, List<String>> headers = new TreeMap<>();
        ((Map<String, Object>) echo.get("headers")).forEach((name, values) ->
                headers.computeIfAbsent(name.toLowerCase(Locale.ROOT), n -> new ArrayList<>()).addAll((List<String>) values));
        return headers;
    }

    private static void rememberPid(String infoJson) {
        Object pid = Json.object(infoJson).get("pid");
        if (pid instanceof Number number && number.longValue() != ProcessHandle.current().pid() && number.longValue() > 0) {
            childPids.add(number.longValue());
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted"));
        }
    }
}
