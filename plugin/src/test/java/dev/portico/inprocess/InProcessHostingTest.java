package dev.portico.inprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.inprocess.testapp.TestApp;
import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.KeyValueLines;
import dev.portico.testsupport.Poll;
import dev.portico.testsupport.TextWebSocket;

/**
 * In-process hosting end to end: an embedded Tomcat with the valve, exploded WARs in its
 * appBase, a real HTTP (and WebSocket) client. The servlet behaviour tests share one app; the
 * life-cycle tests deploy their own.
 */
class InProcessHostingTest {

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> {
        valve.setStartupTimeLimit(30);
        valve.setShutdownTimeLimit(3);
    }, t -> t.enableNaming());

    @BeforeAll
    static void start() throws Exception {
        TestApp.write(tomcat.apps().resolve("tapp"), "");
        tomcat.awaitHosted("tapp");
    }

    // ---------------------------------------------------------------- Servlet behaviour

    @Test
    void servesTheWarWithFiltersListenersAndTheRequestAsSent() {
        HttpResponse<String> response = tomcat.get("/t%61pp/info/a%20b?x=1");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("yes", response.headers().firstValue("X-Filtered").orElse(null));
        KeyValueLines.assertValues(KeyValueLines.parse(response.body()), "contextPath", "/t%61pp",
                "requestURI", "/t%61pp/info/a%20b", "servletPath", "/info", "pathInfo", "/a b", "filtered", "true",
                "hostingModel", "inProcess");
        assertTrue(TestApp.events().contains("init /tapp"), TestApp.events().toString());
        assertEquals("static file", tomcat.get("/tapp/static.txt").body());
        // the Host's own webapps still answer
        assertEquals("plain tomcat /plain/x", tomcat.get("/plain/x").body());
    }

    @Test
    void redirectsTheContextRootLikeTomcat() {
        HttpResponse<String> response = tomcat.get("/tapp?q=1");
        assertEquals(302, response.statusCode());
        assertEquals("/tapp/?q=1", response.headers().firstValue("Location").orElse(""));
    }

    @Test
    void sessionsFollowTheCookieAndTheUrl() {
        HttpResponse<String> first = tomcat.get("/tapp/session");
        assertEquals("count=1", first.body());
        String setCookie = first.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(setCookie.contains("Path=/tapp"), setCookie);
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        String id = cookie.substring(cookie.indexOf('=') + 1);
        assertEquals("count=2", tomcat.send(HttpRequest.newBuilder(tomcat.uri("/tapp/session"))
                .header("Cookie", cookie).build()).body());
        assertEquals("count=3", tomcat.get("/tapp/session;jsessionid=" + id).body());
        // a session of the same name for another path is not this app's
        assertEquals("count=1", tomcat.send(HttpRequest.newBuilder(tomcat.uri("/tapp/session"))
                .header("Cookie", "JSESSIONID=0123456789ABCDEF").build()).body());
    }

    @Test
    void forwardIncludeAndJsp() {
        KeyValueLines.assertValues(KeyValueLines.parse(tomcat.get("/tapp/forward").body()), "servletPath", "/info",
                "pathInfo", "/forwarded", "dispatcher", "FORWARD", "requestURI", "/tapp/info/forwarded");
        assertEquals("jsp /tapp 42", tomcat.get("/tapp/hello.jsp").body().trim());
        assertEquals("before|jsp /tapp 42|after", tomcat.get("/tapp/include").body());
    }

    @Test
    void errorPagesOfTheApp() {
        HttpResponse<String> missing = tomcat.get("/tapp/nothing-here");
        assertEquals(404, missing.statusCode());
        assertEquals("error page status=404 uri=/tapp/nothing-here", missing.body());
        HttpResponse<String> boom = tomcat.get("/tapp/boom");
        assertEquals(500, boom.statusCode());
        assertEquals("error page status=500 uri=/tapp/boom", boom.body());
    }

    @Test
    void multipartUpload() {
        String boundary = "portico" + System.nanoTime();
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\n" + "x".repeat(5000) + "\r\n--" + boundary + "--\r\n";
        HttpResponse<String> response = tomcat.send(HttpRequest.newBuilder(tomcat.uri("/tapp/upload"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("field=5:null;file=5000:a.txt;", response.body());
    }

    @Test
    void asyncDispatchAndCompleteFromOtherThreads() {
        // the async dispatch runs through the front Engine and, by request.getHost(), the internal Host
        HttpResponse<String> dispatched = tomcat.get("/tapp/async?mode=dispatch");
        assertEquals(200, dispatched.statusCode(), dispatched.body());
        assertEquals("dispatched /tapp true", dispatched.body());
        HttpResponse<String> completed = tomcat.get("/tapp/async?mode=complete");
        assertEquals("completed on app-async", completed.body());
    }

    @Test
    void nonBlockingReadAndWrite() {
        byte[] payload = new byte[300_000];
        new Random(4).nextBytes(payload);
        HttpResponse<byte[]> response;
        try {
            response = tomcat.client().send(HttpRequest.newBuilder(tomcat.uri("/tapp/nbecho"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertEquals(200, response.statusCode());
        assertTrue(Arrays.equals(payload, response.body()), "echoed body differs");
    }

    @Test
    void httpUpgrade() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", tomcat.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET /tapp/upgrade HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String head = readUntil(in, "\r\n\r\n");
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
            out.write("hello upgrade\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals("HELLO UPGRADE\n", readUntil(in, "\n"));
        }
    }

    private static String readUntil(InputStream in, String end) throws Exception {
        StringBuilder text = new StringBuilder();
        int b;
        while (!text.toString().endsWith(end) && (b = in.read()) != -1) {
            text.append((char) b);
        }
        return text.toString();
    }

    @Test
    void webSocketEndpoint() throws Exception {
        assertEquals("echo:hi", TextWebSocket.roundTrip(tomcat.client(),
                URI.create("ws://127.0.0.1:" + tomcat.port() + "/tapp/ws"), "hi", Duration.ofSeconds(10), Duration.ofSeconds(10)));
    }

    // ---------------------------------------------------------------- life of the app

    @Test
    void environmentVariablesBecomeJndiEntriesAndParametersAndStdoutGoesToTheAppsLog() throws Exception {
        Path staging = Files.createTempDirectory(tomcat.apps(), ".staging");
        Files.createDirectories(staging.resolve("WEB-INF"));
        Files.writeString(staging.resolve("WEB-INF/portico.xml"), "<portico stdoutLogEnabled=\"true\">"
                + "<environmentVariables><environmentVariable name=\"GREETING\" value=\"hello env\"/></environmentVariables>"
                + "</portico>");
        TestApp.write(staging, "");
        Path dir = Files.move(staging, tomcat.apps().resolve("envapp"));
        Poll.until(Duration.ofSeconds(15), "envapp with its portico.xml",
                () -> KeyValueLines.parse(tomcat.get("/envapp/info").body()).getOrDefault("initGreeting", "").equals("hello env"));
        Map<String, String> info = KeyValueLines.parse(tomcat.get("/envapp/info").body());
        assertEquals("hello env", info.get("jndiGreeting"));
        assertEquals("inProcess", info.get("hostingModel"));

        String marker = "m" + System.nanoTime();
        assertEquals("printed " + marker, tomcat.get("/envapp/print?marker=" + marker).body());
        Path logs = dir.resolve("logs");
        Poll.until(Duration.ofSeconds(5), "stdout log written", () -> logContains(logs, "out from app thread " + marker)
                && logContains(logs, "err from app thread " + marker));
        // the log is not served as content
        try (Stream<Path> files = Files.list(logs)) {
            String name = files.findFirst().orElseThrow().getFileName().toString();
            assertEquals(403, tomcat.get("/envapp/logs/" + name).statusCode());
        }
        // another app's output stays out of it
        tomcat.get("/tapp/print?marker=other" + marker);
        assertFalse(logContains(logs, "other" + marker));
    }

    private static boolean logContains(Path logs, String text) {
        if (!Files.isDirectory(logs)) {
            return false;
        }
        try (Stream<Path> files = Files.list(logs)) {
            return files.anyMatch(f -> {
                try {
                    return Files.readString(f).contains(text);
                } catch (Exception e) {
                    return false;
                }
            });
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void aWarThatFailsToStartAnswers500Point30AndTomcatStaysUp() throws Exception {
        TestApp.write(tomcat.apps().resolve("failing"), "<listener><listener-class>"
                + TestApp.Failing.class.getName() + "</listener-class></listener>\n");
        tomcat.awaitHosted("failing");
        HttpResponse<String> response = tomcat.get("/failing/info");
        assertEquals(500, response.statusCode());
        assertTrue(response.body().contains("500.30"), response.body());
        assertTrue(response.body().contains("boom from the listener"), response.body());
        assertEquals(500, tomcat.get("/failing/info").statusCode());
        assertTrue(tomcat.valve().getHostedApps().get("/failing").contains("failed to start"));
        assertEquals("plain tomcat /plain/x", tomcat.get("/plain/x").body());
        assertEquals(200, tomcat.get("/tapp/info").statusCode());
    }

    @Test
    void appOfflineStopsTheAppAndReleasesItAndARequestAfterwardsRestartsIt() throws Exception {
        Path dir = TestApp.write(tomcat.apps().resolve("offline"), "");
        tomcat.awaitHosted("offline");
        assertEquals(200, tomcat.get("/offline/info").statusCode());
        assertEquals(1, Collections.frequency(TestApp.events(), "init /offline"));

        Files.writeString(dir.resolve("app_offline.htm"), "<h1>down for maintenance</h1>");
        Poll.until(Duration.ofSeconds(10), "offline", () -> tomcat.get("/offline/info").statusCode() == 503);
        assertEquals("<h1>down for maintenance</h1>", tomcat.get("/offline/info").body());
        Poll.until(Duration.ofSeconds(10), "context stopped", () -> TestApp.events().contains("destroy /offline"));
        // the deployment can now replace the app's files
        Files.writeString(dir.resolve("static.txt"), "new static file");

        Files.delete(dir.resolve("app_offline.htm"));
        Poll.until(Duration.ofSeconds(10), "online", () -> tomcat.get("/offline/static.txt").statusCode() == 200);
        assertEquals("new static file", tomcat.get("/offline/static.txt").body());
        assertEquals(2, Collections.frequency(TestApp.events(), "init /offline"));
    }

    @Test
    void aChangedWebXmlRestartsTheApp() throws Exception {
        Path dir = TestApp.write(tomcat.apps().resolve("recycled"), "");
        tomcat.awaitHosted("recycled");
        assertEquals(200, tomcat.get("/recycled/info").statusCode());
        Path webXml = dir.resolve("WEB-INF/web.xml");
        Files.setLastModifiedTime(webXml, FileTime.fromMillis(Files.getLastModifiedTime(webXml).toMillis() + 5_000));
        Poll.until(Duration.ofSeconds(10), "old generation stopped",
                () -> TestApp.events().contains("destroy /recycled"));
        assertEquals(200, tomcat.get("/recycled/info").statusCode());
        assertEquals(2, Collections.frequency(TestApp.events(), "init /recycled"));
    }

    @Test
    void tomcatStopDrainsRequestsInFlight() throws Exception {
        try (HostingTomcat own = HostingTomcat.start(valve -> valve.setShutdownTimeLimit(10))) {
            TestApp.write(own.apps().resolve("drain"), "");
            own.awaitHosted("drain");
            assertEquals(200, own.get("/drain/info").statusCode());
            int before = TestApp.SLOW_IN_FLIGHT.get();
            CompletableFuture<HttpResponse<String>> slow = own.client().sendAsync(
                    HttpRequest.newBuilder(own.uri("/drain/slow?ms=1500")).build(), HttpResponse.BodyHandlers.ofString());
            Poll.until(Duration.ofSeconds(10), "slow request running", () -> TestApp.SLOW_IN_FLIGHT.get() > before);
            own.stop();
            HttpResponse<String> response = slow.get(10, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode());
            assertEquals("slept", response.body());
            assertTrue(TestApp.events().contains("destroy /drain"));
        }
    }

    @Test
    void theFrontRealmAuthenticatesAndAuthorizesTheWarsOwnConstraints() throws Exception {
        Path app = tomcat.apps().resolve("guarded");
        Files.createDirectories(app.resolve("WEB-INF"));
        Files.writeString(app.resolve("index.html"), "guarded page");
        Files.createDirectories(app.resolve("admin"));
        Files.writeString(app.resolve("admin/index.html"), "admin page");
        Files.writeString(app.resolve("WEB-INF/web.xml"), """
                <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
                  <security-constraint>
                    <web-resource-collection><url-pattern>/admin/*</url-pattern></web-resource-collection>
                    <auth-constraint><role-name>admin</role-name></auth-constraint>
                  </security-constraint>
                  <security-constraint>
                    <web-resource-collection><url-pattern>/*</url-pattern></web-resource-collection>
                    <auth-constraint><role-name>user</role-name></auth-constraint>
                  </security-constraint>
                  <login-config><auth-method>BASIC</auth-method></login-config>
                  <security-role><role-name>user</role-name></security-role>
                  <security-role><role-name>admin</role-name></security-role>
                </web-app>
                """);
        tomcat.awaitHosted("guarded");
        assertEquals(401, tomcat.get("/guarded/index.html").statusCode());
        assertEquals(401, authorized("/guarded/index.html", "alice", "wrong").statusCode());
        HttpResponse<String> ok = authorized("/guarded/index.html", "alice", "secret");
        assertEquals(200, ok.statusCode());
        assertEquals("guarded page", ok.body());
        assertEquals(403, authorized("/guarded/admin/index.html", "alice", "secret").statusCode());
    }

    private static HttpResponse<String> authorized(String path, String user, String password) {
        String credentials = java.util.Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return tomcat.send(HttpRequest.newBuilder(tomcat.uri(path)).header("Authorization", "Basic " + credentials).build());
    }
}
