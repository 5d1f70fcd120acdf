package dev.portico.outofprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;
import dev.portico.testsupport.RawConnection;
import dev.portico.testsupport.RawHttp;
import dev.portico.testsupport.TestBodies;

/**
 * Out-of-process hosting end to end inside an embedded Tomcat: real Node processes on
 * loopback, a real HTTP client. Each test deploys its own app so tests do not share state.
 */
class OutOfProcessHostingTest {

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> {
        valve.setStartupTimeLimit(20);
        valve.setShutdownTimeLimit(3);
    });

    private static long pid(String app) {
        return Long.parseLong(Json.field(tomcat.get("/" + app + "/env").body(), "pid"));
    }

    @Test
    void forwardsMethodPathQueryAndOwnsTheForwardingHeaders() {
        tomcat.nodeApp("echo", "", Map.of("GREETING", "hi there"));
        HttpResponse<String> response = tomcat.send(HttpRequest.newBuilder(tomcat.uri("/echo/echo?x=1&y=%2F"))
                .header("X-Forwarded-For", "6.6.6.6")
                .header("X-Portico-Token", "forged")
                .header("X-Portico-Principal", "mallory")
                .header("X-Custom", "kept")
                .header("Script-Name", "/evil")
                .header("SCRIPT_NAME", "/evil")
                .method("PUT", HttpRequest.BodyPublishers.ofString("hello"))
                .build());
        assertEquals(200, response.statusCode(), response.body());
        String body = response.body();
        assertEquals("PUT", Json.field(body, "method"));
        assertEquals("/echo/echo", Json.field(body, "path"));
        assertEquals("x=1&y=%2F", Json.field(body, "query"));
        assertEquals("5", Json.field(body, "bodyLength"));
        assertEquals(List.of("127.0.0.1"), Json.fields(body, "x-forwarded-for"));
        assertEquals("http", Json.field(body, "x-forwarded-proto"));
        assertEquals("127.0.0.1:" + tomcat.port(), Json.field(body, "x-forwarded-host"));
        assertEquals("/echo", Json.field(body, "x-forwarded-prefix"));
        assertEquals("kept", Json.field(body, "x-custom"));
        assertNull(Json.field(body, "x-portico-principal"));
        assertNull(Json.field(body, "script-name"), body);
        assertNull(Json.field(body, "script_name"), body);
        String token = Json.field(body, "x-portico-token");
        assertNotNull(token);
        assertNotEquals("forged", token);
        assertEquals("hi there", Json.field(tomcat.get("/echo/env?names=GREETING").body(), "GREETING"));
        assertEquals("/echo", Json.field(tomcat.get("/echo/env").body(), "PORTICO_PATH_BASE"));
    }

    /**
     * The backend gets the Host the client addressed (ANCM preserves it), so a framework that
     * builds absolute URLs from Host points at the front; X-Forwarded-Host says the same, and the
     * front's port travels in X-Forwarded-Port. Without a port in Host, neither header invents one.
     */
    @Test
    void forwardsTheClientsHost() throws Exception {
        tomcat.nodeApp("hosted", "", Map.of());
        int front = tomcat.port();
        try (RawConnection raw = RawHttp.connect(front, Duration.ofSeconds(10))) {
            String echo = echo(raw, "GET /hosted/echo HTTP/1.1\r\nHost: shop.example:" + front + "\r\n");
            assertEquals("shop.example:" + front, Json.field(echo, "host"), echo);
            assertEquals("shop.example:" + front, Json.field(echo, "x-forwarded-host"), echo);
            assertEquals(Integer.toString(front), Json.field(echo, "x-forwarded-port"), echo);
            echo = echo(raw, "GET /hosted/echo HTTP/1.1\r\nHost: Shop.Example\r\n");
            assertEquals("Shop.Example", Json.field(echo, "host"), echo);
            assertEquals("Shop.Example", Json.field(echo, "x-forwarded-host"), echo);
            // HTTP/1.0 without Host: the front's own address, as a webapp's getServerName() says
            echo = echo(raw, "GET /hosted/echo HTTP/1.0\r\nConnection: keep-alive\r\n");
            assertEquals(Json.field(echo, "x-forwarded-host"), Json.field(echo, "host"), echo);
            assertNotNull(Json.field(echo, "host"), echo);
        }
    }

    /** The echo of a GET whose head (request line and headers, no blank line) is written as it stands. */
    private static String echo(RawConnection connection, String head) throws IOException {
        connection.send(head + "Content-Length: 0\r\n\r\n");
        return connection.readResponse("GET").text();
    }

    /** {@code preserveHostHeader="false"}: the backend's own loopback address in Host, the client's in X-Forwarded-Host only. */
    @Test
    void preserveHostHeaderOffSendsTheBackendsAddress() throws Exception {
        tomcat.nodeApp("ownhost", "preserveHostHeader=\"false\"", Map.of());
        int front = tomcat.port();
        String port = Json.field(tomcat.get("/ownhost/env").body(), "PORTICO_PORT");
        try (RawConnection raw = RawHttp.connect(front, Duration.ofSeconds(10))) {
            String echo = echo(raw, "GET /ownhost/echo HTTP/1.1\r\nHost: shop.example\r\n");
            assertEquals("127.0.0.1:" + port, Json.field(echo, "host"), echo);
            assertEquals("shop.example", Json.field(echo, "x-forwarded-host"), echo);
        }
    }

    /**
     * A backend that binds where an argument says: {@code %PORTICO_PORT%} and {@code ${NAME}} in
     * arguments and environmentVariables are expanded when the process starts, against Portico's
     * variables and Tomcat's environment; {@code %%} and {@code $${} stay literal.
     */
    @Test
    @SuppressWarnings("unchecked")
    void argumentsAndVariableValuesExpandPorticosVariables() {
        tomcat.writeApp("bound", "<portico processPath=\"node\" arguments=\"" + HostingTomcat.NODE_BACKEND
                + " --port %PORTICO_PORT% --base ${PORTICO_PATH_BASE} %%PORTICO_PORT%% %NOT_SET% &quot;%BIND%&quot;\">\n"
                + "  <environmentVariables>\n"
                + "    <environmentVariable name=\"BIND\" value=\"127.0.0.1:${PORTICO_PORT} of ${PATH}\"/>\n"
                + "    <environmentVariable name=\"LITERAL\" value=\"$${PORTICO_PORT} %%PORTICO_PORT%%\"/>\n"
                + "  </environmentVariables>\n</portico>\n");
        Map<String, Object> env = (Map<String, Object>) Json.parse(tomcat.get("/bound/env?names=BIND,LITERAL").body());
        String port = (String) env.get("PORTICO_PORT");
        assertEquals(Long.parseLong(port), env.get("listeningPort"), "the backend listens on the port its argument named");
        String bind = "127.0.0.1:" + port + " of " + System.getenv("PATH");
        assertEquals(List.of("--port", port, "--base", "/bound", "%PORTICO_PORT%", "%NOT_SET%", bind), env.get("argv"));
        assertEquals(bind, env.get("BIND"));
        assertEquals("${PORTICO_PORT} %PORTICO_PORT%", env.get("LITERAL"));
        // a new process gets a port of its own, and its arguments follow
        String pid = String.valueOf(env.get("pid"));
        tomcat.get("/bound/crash");
        Poll.until(Duration.ofSeconds(20), "a restarted backend", () -> {
            HttpResponse<String> again = tomcat.get("/bound/env");
            return again.statusCode() == 200 && !pid.equals(Json.field(again.body(), "pid"));
        });
        Map<String, Object> restarted = (Map<String, Object>) Json.parse(tomcat.get("/bound/env").body());
        assertEquals(Long.parseLong((String) restarted.get("PORTICO_PORT")), restarted.get("listeningPort"));
    }

    @Test
    void requestsOutsideHostedAppsFallThroughToTheHostsWebapps() {
        tomcat.nodeApp("plainish", "", Map.of());
        assertEquals("plain tomcat /plain/x", tomcat.get("/plain/x").body());
        // a prefix that is not a whole path segment is not the app's
        assertEquals(404, tomcat.get("/plainishness").statusCode());
        assertTrue(tomcat.get("/plainish/anything").body().startsWith("hello from node /plainish/anything"));
    }

    @Test
    void concurrentFirstRequestsShareOneStart() {
        tomcat.nodeApp("crowd", "", Map.of("BACKEND_START_DELAY_MS", "500"));
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            responses.add(tomcat.client().sendAsync(HttpRequest.newBuilder(tomcat.uri("/crowd/env")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        List<String> pids = responses.stream().map(CompletableFuture::join)
                .peek(r -> assertEquals(200, r.statusCode(), r.body()))
                .map(r -> Json.field(r.body(), "pid")).distinct().toList();
        assertEquals(1, pids.size(), "one process served every first request: " + pids);
        assertTrue(tomcat.valve().getHostedApps().get("/crowd").contains("running"));
    }

    @Test
    void serverSentEventsArriveLive() throws Exception {
        tomcat.nodeApp("events", "", Map.of());
        HttpResponse<InputStream> response = tomcat.client().send(
                HttpRequest.newBuilder(tomcat.uri("/events/sse?count=4&intervalMs=400")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals("text/event-stream", response.headers().firstValue("Content-Type").orElse(""));
        long begin = System.nanoTime();
        List<Long> arrivals = new ArrayList<>();
        try (InputStream in = response.body()) {
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0) {
                if (c == '\n') {
                    if (line.toString().startsWith("data:")) {
                        arrivals.add((System.nanoTime() - begin) / 1_000_000);
                    }
                    line.setLength(0);
                } else {
                    line.append((char) c);
                }
            }
        }
        long end = (System.nanoTime() - begin) / 1_000_000;
        assertEquals(4, arrivals.size());
        assertTrue(arrivals.get(0) < end - 800, "first event at " + arrivals.get(0) + " ms, stream ended at " + end + " ms");
        assertTrue(arrivals.get(1) - arrivals.get(0) > 200, "events are spaced as sent: " + arrivals);
    }

    @Test
    void hundredMegabyteBodiesPassIntactBothWays() throws Exception {
        tomcat.nodeApp("bulk", "", Map.of());
        long size = 100L * 1024 * 1024;
        Supplier<InputStream> body = TestBodies.seeded(size, 42);
        HttpRequest upload = HttpRequest.newBuilder(tomcat.uri("/bulk/echo")).timeout(Duration.ofMinutes(3))
                .POST(HttpRequest.BodyPublishers.ofInputStream(body)).build();
        HttpResponse<String> echoed = tomcat.send(upload);
        assertEquals(200, echoed.statusCode(), echoed.body());
        assertEquals(Long.toString(size), Json.field(echoed.body(), "bodyLength"));
        assertEquals(TestBodies.sha256(body.get()), Json.field(echoed.body(), "bodySha256"));

        HttpResponse<InputStream> download = tomcat.client().send(
                HttpRequest.newBuilder(tomcat.uri("/bulk/download?bytes=" + size)).timeout(Duration.ofMinutes(3)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        TestBodies.Digest received = TestBodies.digest(download.body());
        assertEquals(size, received.length());
        assertEquals(TestBodies.sha256(TestBodies.modulo251(size).get()), received.sha256(),
                "every byte is where the backend put it");
    }

    /** The answer to the first request of an app whose process fails to start: 502.5. */
    private static HttpResponse<String> failedStart(String app, String attributes) {
        tomcat.nodeApp(app, attributes, Map.of("BACKEND_FAIL_START", "1"));
        HttpResponse<String> response = tomcat.get("/" + app + "/");
        assertEquals(502, response.statusCode(), response.body());
        assertTrue(response.body().contains("502.5"), response.body());
        return response;
    }

    @Test
    void startFailureAnswers502Point5WithTheProcessOutput() {
        HttpResponse<String> response = failedStart("broken", "rapidFailsPerMinute=\"100\"");
        assertTrue(response.body().contains("failing on purpose"), response.body());
        assertTrue(response.body().contains("exited with code 1"), response.body());
    }

    @Test
    void detailsAreHiddenWhenTheStartUpErrorPageIsDisabled() {
        HttpResponse<String> response = failedStart("discreet", "disableStartUpErrorPage=\"true\"");
        assertFalse(response.body().contains("failing on purpose"), response.body());
    }

    @Test
    void aFailedBindIsRetriedOnAnotherPortWithinTheSameRequest() throws Exception {
        Path marker = Files.createTempFile("portico-fail-once", ".txt");
        Files.delete(marker);
        tomcat.nodeApp("retry", "", Map.of("BACKEND_FAIL_ONCE_FILE", marker.toString()));
        HttpResponse<String> response = tomcat.get("/retry/env");
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(Files.exists(marker), "the first process failed on purpose");
        Files.delete(marker);
    }

    @Test
    void aCrashedProcessIsReplacedOnTheNextRequest() {
        tomcat.nodeApp("crashy", "", Map.of());
        long previous = pid("crashy");
        for (int round = 0; round < 3; round++) {
            assertEquals(200, tomcat.get("/crashy/crash").statusCode());
            // at once, while the process may still be exiting: the request waits for the next process
            long next = pid("crashy");
            assertNotEquals(previous, next);
            previous = next;
        }
    }

    /**
     * A backend that never printed a byte leaves an empty output tail; its crash used to throw
     * while the crash was logged, and the request that noticed it got a bare 500.
     */
    @Test
    void aKilledBackendThatPrintedNothingIsReplacedNotAnswered500() throws Exception {
        Path dir = Files.createDirectories(tomcat.apps().resolve(".silent-program"));
        Path program = dir.resolve("silent.js");
        Files.writeString(program, "require('http').createServer((req, res) => res.end(String(process.pid)))"
                + ".listen(Number(process.env.PORTICO_PORT), '127.0.0.1');\n");
        tomcat.writeApp("silent", "<portico processPath=\"node\" arguments=\"" + program + "\" rapidFailsPerMinute=\"100\"/>");
        long previous = Long.parseLong(tomcat.get("/silent/").body());
        for (int round = 0; round < 5; round++) {
            ProcessHandle backend = ProcessHandle.of(previous).orElseThrow();
            backend.destroyForcibly();
            backend.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
            // at once: the pool may not have heard of the exit yet
            HttpResponse<String> next = tomcat.get("/silent/");
            assertEquals(200, next.statusCode(), "round " + round + ": " + next.body());
            long pid = Long.parseLong(next.body());
            assertNotEquals(previous, pid, "a new process served round " + round);
            previous = pid;
        }
    }

    @Test
    void aSilentBackendTimesOutWith504AndABrokenConnectionIs502() {
        tomcat.nodeApp("stuck", "requestTimeout=\"00:00:02\"", Map.of());
        long begin = System.nanoTime();
        HttpResponse<String> hang = tomcat.get("/stuck/hang");
        long tookMillis = (System.nanoTime() - begin) / 1_000_000;
        assertEquals(504, hang.statusCode(), hang.body());
        assertTrue(tookMillis >= 1900 && tookMillis < 8000, "timed out after " + tookMillis + " ms");
        HttpResponse<String> drop = tomcat.get("/stuck/drop");
        assertEquals(502, drop.statusCode(), drop.body());
        assertTrue(drop.body().contains("502.3"), drop.body());
        assertEquals(200, tomcat.get("/stuck/env").statusCode(), "the backend keeps running");
    }

    @Test
    void stdoutIsCapturedToATimestampedLogPerProcess() throws Exception {
        Path dir = tomcat.nodeApp("logged", "stdoutLogEnabled=\"true\" stdoutLogFile=\"logs/out/stdout\"", Map.of());
        long pid = pid("logged");
        Path logs = dir.resolve("logs/out");
        Poll.until(Duration.ofSeconds(5), "log folder created", () -> Files.isDirectory(logs));
        Path log;
        try (Stream<Path> files = Files.list(logs)) {
            log = files.filter(p -> p.getFileName().toString().matches("stdout_\\d{14}_" + pid + "\\.log"))
                    .findFirst().orElseThrow(() -> new AssertionError("no stdout_<stamp>_" + pid + ".log in " + logs));
        }
        Poll.until(Duration.ofSeconds(5), "output logged", () -> read(log).contains("listening on 127.0.0.1"));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    @Test
    void appOfflineStopsTheProcessAndServesTheFileUntilRemoved() throws Exception {
        Path dir = tomcat.nodeApp("maint", "", Map.of());
        long first = pid("maint");
        Path offline = dir.resolve("app_offline.htm");
        Files.writeString(offline, "<h1>down for maintenance</h1>");
        Poll.until(Duration.ofSeconds(5), "offline", () -> tomcat.get("/maint/env").statusCode() == 503);
        HttpResponse<String> page = tomcat.get("/maint/anything");
        assertEquals("<h1>down for maintenance</h1>", page.body());
        assertEquals("text/html;charset=UTF-8", page.headers().firstValue("Content-Type").orElse(""));
        Poll.until(Duration.ofSeconds(10), "process stopped", () -> ProcessHandle.of(first).isEmpty());
        Files.delete(offline);
        Poll.until(Duration.ofSeconds(10), "online again", () -> tomcat.get("/maint/env").statusCode() == 200);
        assertNotEquals(first, pid("maint"));
    }

    @Test
    void aChangedConfigurationRecyclesTheApp() {
        tomcat.nodeApp("recycled", "", Map.of("COLOUR", "red"));
        long first = pid("recycled");
        assertEquals("red", Json.field(tomcat.get("/recycled/env?names=COLOUR").body(), "COLOUR"));
        tomcat.nodeApp("recycled", "", Map.of("COLOUR", "blue!"));
        Poll.until(Duration.ofSeconds(10), "new configuration in effect",
                () -> "blue!".equals(Json.field(tomcat.get("/recycled/env?names=COLOUR").body(), "COLOUR")));
        Poll.until(Duration.ofSeconds(10), "old process stopped", () -> ProcessHandle.of(first).isEmpty());
    }

    @Test
    void anInvalidConfigurationFailsOnlyThatApp() {
        tomcat.writeApp("misconfigured", "<portico processPath=\"node\" startupTimeLimit=\"abc\"/>");
        tomcat.assertConfigurationError("misconfigured", "portico.xml", "startupTimeLimit", "abc");
        assertEquals("plain tomcat /plain/", tomcat.get("/plain/").body());
    }

    @Test
    void removingTheAppDirectoryStopsItsProcess() throws Exception {
        Path dir = tomcat.nodeApp("removed", "", Map.of());
        long pid = pid("removed");
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        Poll.until(Duration.ofSeconds(10), "process of removed app gone", () -> ProcessHandle.of(pid).isEmpty());
        assertEquals(404, tomcat.get("/removed/env").statusCode());
    }

    @Test
    void theFrontUserIsForwardedWhenForwardPrincipalIsOn() {
        tomcat.nodeApp("secure", "forwardPrincipal=\"true\" authMethod=\"BASIC\" authRoles=\"user\"", Map.of());
        assertEquals(401, tomcat.get("/secure/echo").statusCode());
        HttpResponse<String> wrong = tomcat.send(HttpRequest.newBuilder(tomcat.uri("/secure/echo"))
                .header("Authorization", basic("alice", "nope")).build());
        assertEquals(401, wrong.statusCode());
        HttpResponse<String> ok = tomcat.send(HttpRequest.newBuilder(tomcat.uri("/secure/echo"))
                .header("Authorization", basic("alice", "secret"))
                .header("X-Portico-Principal", "mallory").build());
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals(List.of("alice"), Json.fields(ok.body(), "x-portico-principal"));
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shutdownKillsABackendThatIgnoresItAndItsChildren() throws Exception {
        Path dir = tomcat.nodeApp("stubborn", "shutdownTimeLimit=\"1\"",
                Map.of("BACKEND_IGNORE_SIGTERM", "1", "BACKEND_SPAWN_CHILD", "1"));
        long pid = pid("stubborn");
        Optional<ProcessHandle> grandchild = ProcessHandle.of(pid).flatMap(p -> p.children().findFirst());
        assertTrue(grandchild.isPresent(), "the backend spawned a child");
        Files.writeString(dir.resolve("app_offline.htm"), "off");
        Poll.until(Duration.ofSeconds(8), "backend and grandchild killed after shutdownTimeLimit",
                () -> ProcessHandle.of(pid).isEmpty() && !grandchild.get().isAlive());
    }
}
