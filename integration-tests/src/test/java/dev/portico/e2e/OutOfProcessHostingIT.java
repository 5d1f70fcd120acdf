package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.portico.testsupport.HttpTestClient;
import dev.portico.testsupport.Poll;
import dev.portico.testsupport.TestBodies;

/**
 * Out-of-process hosting of the Node test backend in the real Tomcat distribution. One Tomcat for
 * the class; every test that changes an app's state has an app of its own.
 */
class OutOfProcessHostingIT {

    private static final long HUNDRED_MEGABYTES = 100L * 1024 * 1024;
    private static final Duration LONG_TRANSFER = Duration.ofSeconds(120);
    private static final String OFFLINE_PAGE = "<h1>down for maintenance</h1>";

    /** The log records the failure tests provoke on purpose, one per app that fails by design. */
    private static final String[] PROVOKED_RECORDS = {"app \\[bad\\]", "app \\[failing\\]", "app \\[toolate\\]"};

    private static TomcatDistribution tomcat;
    private static HttpTestClient http;

    @BeforeAll
    static void startTomcatWithApps() {
        tomcat = TomcatDistribution.named("hosting").withUserRealm().create();
        tomcat.writeApp("node", node().env("GREETING", "hi").attribute("forwardPrincipal", "true").asFile());
        tomcat.writeApp("bad", node().attribute("startupTimeLimit", "abc").asFile());
        tomcat.writeApp("failing", node().env("BACKEND_FAIL_START", "1").asFile());
        tomcat.writeApp("timeout", node().attribute("requestTimeout", "00:00:02").asFile());
        tomcat.writeApp("crashing", node().asFile());
        tomcat.writeApp("offline", node().asFile());
        tomcat.writeApp("recycled", node().env("GREETING", "first").asFile());
        tomcat.writeApp("collision", node().env("BACKEND_FAIL_ONCE_FILE",
                tomcat.appDir("collision").resolve("failed-once.txt").toString()).asFile());
        tomcat.writeApp("slowstart", node().env("BACKEND_START_DELAY_MS", "1500").asFile());
        tomcat.writeApp("toolate", node().attribute("startupTimeLimit", "1")
                .env("BACKEND_START_DELAY_MS", "30000").asFile());
        tomcat.writeApp("secure", node().attribute("forwardPrincipal", "true")
                .attribute("authMethod", "BASIC").attribute("authRoles", "user").asFile());
        tomcat.start();
        http = tomcat.http();
    }

    @AfterAll
    static void stopTomcat() {
        // provoked: the apps that fail on purpose (bad portico.xml, failing and too-late starts)
        TomcatDistribution.closeAndAssertCleanLog(tomcat, PROVOKED_RECORDS);
    }

    private static PorticoXml node() {
        return PorticoXml.nodeBackend();
    }

    // ---------------------------------------------------------------------------------------------
    // Forwarding

    @Test
    void forwardsTheRequestWithTrustworthyProxyHeaders() {
        HttpResponse<String> response = http.get("/node/echo?x=1",
                "X-Forwarded-For", "6.6.6.6",
                "X-Portico-Token", "forged",
                "X-Portico-Principal", "mallory");

        assertEquals(200, response.statusCode(), response.body());
        EchoedRequest echo = EchoedRequest.parse(response.body());
        assertEquals("GET", echo.method());
        assertEquals("/node/echo", echo.path());
        assertEquals("x=1", echo.query());
        String token = echo.singleHeader("x-portico-token");
        assertFalse(token.isBlank(), "the pairing token is set");
        assertNotEquals("forged", token);
        assertEquals("127.0.0.1", echo.singleHeader("x-forwarded-for"));
        assertEquals("http", echo.singleHeader("x-forwarded-proto"));
        assertEquals("127.0.0.1:" + tomcat.httpPort(), echo.singleHeader("x-forwarded-host"));
        assertEquals("/node", echo.singleHeader("x-forwarded-prefix"));
        assertEquals(Integer.toString(tomcat.httpPort()), echo.singleHeader("x-forwarded-port"));
        assertEquals("127.0.0.1:" + tomcat.httpPort(), echo.singleHeader("host"),
                "the backend sees the Host the client sent (preserveHostHeader), not its own address");
        assertEquals(List.of(), echo.headerValues("x-portico-principal"),
                "a client-sent principal never reaches the backend");
    }

    @Test
    void passesTheAppsEnvironmentVariables() {
        JsonNode env = http.getJson("/node/env?names=GREETING");
        assertEquals("hi", env.path("GREETING").asText());
        assertEquals("/node", env.path("PORTICO_PATH_BASE").asText());
        assertTrue(env.path("PORTICO_PORT").asInt() > 0, env.toString());
    }

    @Test
    void leavesOtherPathsToTomcatsOwnWebapps() {
        HttpResponse<String> response = http.get("/index.html");
        assertEquals(200, response.statusCode());
        assertTrue(response.body().contains("plain tomcat root"), response.body());
    }

    @Test
    void streamsA100MegabyteUpload() {
        String expected = TestBodies.sha256(TestBodies.seeded(HUNDRED_MEGABYTES, 42).get());
        HttpRequest upload = http.request("/node/echo").timeout(LONG_TRANSFER)
                .header("Content-Type", "application/octet-stream")
                .POST(BodyPublishers.fromPublisher(
                        BodyPublishers.ofInputStream(TestBodies.seeded(HUNDRED_MEGABYTES, 42)), HUNDRED_MEGABYTES))
                .build();

        HttpResponse<String> response = http.send(upload);

        assertEquals(200, response.statusCode(), HttpTestClient.abbreviate(response.body()));
        EchoedRequest echo = EchoedRequest.parse(response.body());
        assertEquals(HUNDRED_MEGABYTES, echo.bodyLength());
        assertEquals(expected, echo.bodySha256());
    }

    @Test
    void streamsA100MegabyteDownload() {
        String expected = TestBodies.sha256(TestBodies.modulo251(HUNDRED_MEGABYTES).get());
        HttpRequest download = http.request("/node/download?bytes=" + HUNDRED_MEGABYTES)
                .timeout(LONG_TRANSFER).GET().build();

        HttpResponse<InputStream> response = http.send(download, BodyHandlers.ofInputStream());

        assertEquals(200, response.statusCode());
        TestBodies.Digest digest = TestBodies.digest(response.body());
        assertEquals(HUNDRED_MEGABYTES, digest.length());
        assertEquals(expected, digest.sha256());
    }

    @Test
    void deliversServerSentEventsAsTheyAreWritten() {
        HttpRequest sse = http.request("/node/sse?count=5&intervalMs=300").GET().build();
        long start = System.nanoTime();
        List<Long> eventArrivalsMs = new ArrayList<>();

        HttpResponse<Stream<String>> response = http.send(sse, BodyHandlers.ofLines());
        try (Stream<String> lines = response.body()) {
            lines.filter(line -> line.startsWith("data:"))
                    .forEach(line -> eventArrivalsMs.add(millisSince(start)));
        }
        long endMs = millisSince(start);

        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        assertEquals(5, eventArrivalsMs.size(), "events: " + eventArrivalsMs);
        assertTrue(eventArrivalsMs.get(0) < endMs - 800,
                "the first event arrived at " + eventArrivalsMs.get(0) + " ms, the stream ended at "
                        + endMs + " ms: events are buffered, not streamed");
    }

    @Test
    void capturesTheBackendsStdoutToATimestampedLogFile() {
        http.getJson("/node/env");
        Path logs = tomcat.appDir("node").resolve("logs");
        Pattern name = Pattern.compile("stdout_\\d{14}_\\d+\\.log");

        Poll.until(Duration.ofSeconds(10), "a stdout log in " + logs + " saying \"listening on\"",
                () -> stdoutLogs(logs, name).stream().anyMatch(file -> read(file).contains("listening on")));
    }

    // ---------------------------------------------------------------------------------------------
    // Failures

    @Test
    void answersABadConfigurationWith500NamingTheAttribute() {
        HttpResponse<String> response = http.get("/bad/");

        assertEquals(500, response.statusCode());
        for (String detail : List.of("portico.xml", "startupTimeLimit", "abc")) {
            assertTrue(response.body().contains(detail), "the error page names " + detail + ": " + response.body());
        }
        Poll.until(Duration.ofSeconds(5), "a Tomcat log line naming portico.xml, startupTimeLimit and abc",
                () -> tomcat.log().lines().anyMatch(line ->
                        line.contains("portico.xml") && line.contains("startupTimeLimit") && line.contains("abc")));
        assertEquals(200, http.get("/node/").statusCode(), "other apps keep working");
    }

    @Test
    void answersAFailedStartWith5025AndTheBackendsOutput() {
        HttpResponse<String> response = http.get("/failing/");

        assertEquals(502, response.statusCode(), response.body());
        assertTrue(response.body().contains("502.5"), response.body());
        assertTrue(response.body().contains("failing on purpose"), "the page shows the stdout tail: " + response.body());
    }

    @Test
    void startsAgainOnAnotherPortWhenTheFirstBindFails() {
        JsonNode env = http.getJson("/collision/env");

        assertTrue(env.path("pid").asLong() > 0);
        assertTrue(Files.exists(tomcat.appDir("collision").resolve("failed-once.txt")),
                "the first start failed on purpose");
    }

    @Test
    void holdsRequestsUntilASlowBackendListens() {
        long start = System.nanoTime();

        JsonNode env = http.getJson("/slowstart/env");

        assertTrue(env.path("pid").asLong() > 0);
        assertTrue(millisSince(start) >= 1_400, "answered after " + millisSince(start) + " ms");
    }

    @Test
    void answersABackendThatMissesTheStartupTimeLimitWith502() {
        long start = System.nanoTime();

        HttpResponse<String> response = http.get("/toolate/env");

        assertEquals(502, response.statusCode(), response.body());
        assertTrue(millisSince(start) < 15_000, "answered after " + millisSince(start) + " ms");
    }

    @Test
    void startsANewProcessOnTheNextRequestAfterACrash() {
        long crashedPid = pidOf("crashing");

        HttpResponse<String> crash = http.get("/crashing/crash");
        assertEquals(200, crash.statusCode());
        assertEquals("crashing", crash.body());
        Pids.awaitGone(crashedPid, Duration.ofSeconds(5), "the crashed backend");

        long restartedPid = pidOf("crashing");
        assertNotEquals(crashedPid, restartedPid);
    }

    @Test
    void answersAHangingBackendWith504AfterTheRequestTimeout() {
        http.getJson("/timeout/env");
        long start = System.nanoTime();

        HttpResponse<String> response = http.get("/timeout/hang");

        long elapsedMs = millisSince(start);
        assertEquals(504, response.statusCode(), response.body());
        assertTrue(elapsedMs >= 1_500 && elapsedMs <= 6_000, "answered after " + elapsedMs + " ms");
    }

    @Test
    void answersADroppedConnectionWith502() {
        HttpResponse<String> response = http.get("/timeout/drop");

        assertEquals(502, response.statusCode(), response.body());
    }

    // ---------------------------------------------------------------------------------------------
    // Life of the app

    @Test
    void appOfflineStopsTheAppAndServesThePageUntilItIsRemoved() {
        long pidBefore = pidOf("offline");

        tomcat.writeApp("offline", AppFile.of("app_offline.htm", OFFLINE_PAGE));
        HttpResponse<String> offline = Poll.until(Duration.ofSeconds(3), "503 from /offline/env",
                () -> http.get("/offline/env"), response -> response.statusCode() == 503);
        assertTrue(offline.body().contains(OFFLINE_PAGE), offline.body());
        Pids.awaitGone(pidBefore, Duration.ofSeconds(6), "the backend of the offline app");

        tomcat.deleteAppFile("offline", "app_offline.htm");
        JsonNode env = Poll.until(Duration.ofSeconds(5), "the app to come back",
                () -> http.getJson("/offline/env"), json -> true);
        assertNotEquals(pidBefore, env.path("pid").asLong());
    }

    @Test
    void recyclesTheAppWhenPorticoXmlChanges() {
        JsonNode before = http.getJson("/recycled/env?names=GREETING");
        assertEquals("first", before.path("GREETING").asText());

        tomcat.writeApp("recycled", node().env("GREETING", "second").asFile());
        JsonNode after = Poll.until(Duration.ofSeconds(10), "GREETING=second after the change",
                () -> http.getJson("/recycled/env?names=GREETING"),
                json -> json.path("GREETING").asText().equals("second"));

        long oldPid = before.path("pid").asLong();
        assertNotEquals(oldPid, after.path("pid").asLong());
        Pids.awaitGone(oldPid, Duration.ofSeconds(8), "the recycled backend");
    }

    // ---------------------------------------------------------------------------------------------
    // Authentication

    @Test
    void forwardsTheAuthenticatedPrincipal() {
        assertEquals(401, http.get("/secure/echo").statusCode(), "no credentials");
        assertEquals(401, http.get("/secure/echo", "Authorization", basic("alice", "wrong")).statusCode(),
                "wrong password");

        HttpResponse<String> response = http.get("/secure/echo",
                "Authorization", basic("alice", "secret"),
                "X-Portico-Principal", "mallory");

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("alice", EchoedRequest.parse(response.body()).singleHeader("x-portico-principal"));
    }

    // ---------------------------------------------------------------------------------------------

    private static long pidOf(String app) {
        long pid = http.getJson("/" + app + "/env").path("pid").asLong();
        assertTrue(pid > 0, "the backend reports its pid");
        return pid;
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static List<Path> stdoutLogs(Path dir, Pattern name) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(file -> name.matcher(file.getFileName().toString()).matches()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
