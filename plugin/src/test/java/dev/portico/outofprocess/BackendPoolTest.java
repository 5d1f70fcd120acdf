package dev.portico.outofprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Concurrently;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;
import dev.portico.testsupport.RawConnection;
import dev.portico.testsupport.RawKeepAlive;
import dev.portico.testsupport.RawResponse;
import dev.portico.testsupport.RawResponseHead;
import dev.portico.testsupport.TestBodies;

/**
 * The process pool with real Node processes on loopback: balancing, sticky sessions,
 * readiness, crashes and recycles under load, deployment-error resistance, backoff, and the
 * limits that replace or stop processes.
 */
@Timeout(120)
class BackendPoolTest {

    /** How long the concurrent clients of one test may take together. */
    private static final Duration LOAD_LIMIT = Duration.ofSeconds(170);

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> {
        valve.setStartupTimeLimit(20);
        valve.setShutdownTimeLimit(5);
    }).withStatusPage();

    /** Every exchange ends exactly once, and no test leaves a request counted on a process. */
    @AfterEach
    void nothingLeftInFlight() {
        tomcat.awaitNothingInFlight(Duration.ofSeconds(10), "no request in flight");
    }

    // ---------------------------------------------------------------- helpers

    private static Map<?, ?> app(String path) {
        String body = tomcat.status();
        List<?> apps = (List<?>) ((Map<?, ?>) Json.parse(body)).get("apps");
        return apps.stream().map(a -> (Map<?, ?>) a).filter(a -> path.equals(a.get("path"))).findFirst()
                .orElseThrow(() -> new AssertionError(path + " not in " + body));
    }

    private static List<Map<?, ?>> processes(String path) {
        return ((List<?>) app(path).get("processes")).stream().<Map<?, ?>>map(p -> (Map<?, ?>) p).toList();
    }

    private static List<Long> readyPids(String path) {
        return processes(path).stream().filter(p -> "ready".equals(p.get("state")))
                .map(p -> ((Number) p.get("pid")).longValue()).toList();
    }

    private static long pid(String path) {
        HttpResponse<String> response = tomcat.get(path + "/env");
        assertEquals(200, response.statusCode(), response.body());
        return Long.parseLong(Json.field(response.body(), "pid"));
    }

    private static void touch(Path file) throws IOException {
        if (!Files.exists(file)) {
            Files.writeString(file, "");
        }
        // a later modification time than any the catalog has seen, whatever the file system's resolution
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(2)));
    }

    private static long percentile(List<Long> values, double p) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.isEmpty() ? 0 : sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(p * sorted.size()) - 1));
    }

    // ---------------------------------------------------------------- balancing

    @Test
    void requestsAreSpreadOverEveryProcessOfThePool() throws Exception {
        tomcat.nodeApp("trio", "processesPerApplication=\"3\"", Map.of());
        Set<Long> served = ConcurrentHashMap.newKeySet();
        Concurrently.run(6, LOAD_LIMIT, client -> {
            for (int i = 0; i < 30; i++) {
                served.add(pid("/trio"));
            }
        });
        assertEquals(3, served.size(), "pids that served: " + served);
        Poll.until(Duration.ofSeconds(10), "three ready processes", () -> readyPids("/trio").size() == 3);
        assertEquals(Set.copyOf(readyPids("/trio")), served);
        assertEquals(3, ((Number) app("/trio").get("starts")).intValue());
    }

    @Test
    void aStickyClientStaysWithItsProcess() {
        tomcat.nodeApp("sticky", "processesPerApplication=\"3\" stickySessions=\"true\"", Map.of());
        HttpResponse<String> first = tomcat.get("/sticky/env");
        String cookie = first.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("PORTICO_ROUTE="))
                .findFirst().orElseThrow(() -> new AssertionError("no route cookie: " + first.headers().map()));
        assertTrue(cookie.contains("Path=/sticky") && cookie.contains("HttpOnly"), cookie);
        String route = cookie.substring(0, cookie.indexOf(';'));
        Poll.until(Duration.ofSeconds(10), "three ready processes", () -> readyPids("/sticky").size() == 3);
        String pid = Json.field(first.body(), "pid");
        for (int i = 0; i < 30; i++) {
            HttpResponse<String> again = tomcat.send(HttpRequest.newBuilder(tomcat.uri("/sticky/env"))
                    .header("Cookie", route).build());
            assertEquals(pid, Json.field(again.body(), "pid"), "request " + i + " went elsewhere");
            assertTrue(again.headers().allValues("Set-Cookie").isEmpty(), "a client on its route keeps its cookie");
        }
        HttpResponse<String> stale = tomcat.send(HttpRequest.newBuilder(tomcat.uri("/sticky/env"))
                .header("Cookie", "PORTICO_ROUTE=gone").build());
        assertEquals(200, stale.statusCode());
        assertTrue(stale.headers().firstValue("Set-Cookie").orElse("").startsWith("PORTICO_ROUTE="),
                "a route to no process is replaced: " + stale.headers().map());
    }

    // ---------------------------------------------------------------- readiness

    @Test
    void aProcessTakesRequestsOnlyOnceItsReadinessPathAnswers2xx() {
        tomcat.nodeApp("probed", "readinessPath=\"/healthz\"", Map.of("BACKEND_READY_AFTER_MS", "800"));
        assertEquals(200, tomcat.get("/probed/env").statusCode());
        Map<?, ?> process = processes("/probed").get(0);
        Duration startToReady = Duration.between(Instant.parse((String) process.get("startedAt")),
                Instant.parse((String) process.get("readyAt")));
        assertTrue(startToReady.toMillis() >= 800, "ready after " + startToReady + ", before /healthz said so");
    }

    @Test
    void aReadinessPathThatNeverAnswers2xxFailsTheStartAt502Point5() {
        tomcat.nodeApp("neverready", "readinessPath=\"/healthz\" startupTimeLimit=\"2\"",
                Map.of("BACKEND_READY_AFTER_MS", "600000"));
        HttpResponse<String> response = tomcat.get("/neverready/env");
        assertEquals(502, response.statusCode());
        assertTrue(response.body().contains("502.5") && response.body().contains("answer 2xx at /healthz"),
                response.body());
    }

    // ---------------------------------------------------------------- crashes and recycles under load

    /**
     * SIGKILL of one of two processes every 1.5 s under keep-alive GET load: the survivor takes
     * the traffic at once, a GET that met the dying process is sent to the other, and the
     * replacement starts in the background. Not one GET may fail.
     */
    @Test
    void killingOneOfTwoProcessesUnderLoadLosesNoGet() throws Exception {
        tomcat.nodeApp("pair", "processesPerApplication=\"2\" rapidFailsPerMinute=\"100\"", Map.of());
        Poll.until(Duration.ofSeconds(20), "two ready processes", () -> {
            pid("/pair");
            return readyPids("/pair").size() == 2;
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        AtomicInteger gets = new AtomicInteger();
        AtomicInteger kills = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        int clients = 6;
        Concurrently.run(clients + 1, LOAD_LIMIT, client -> {
            if (client == clients) {
                Random victims = new Random(7);
                while (System.nanoTime() < deadline) {
                    Thread.sleep(1500);
                    List<Long> ready = readyPids("/pair");
                    if (!ready.isEmpty()) {
                        ProcessHandle.of(ready.get(victims.nextInt(ready.size()))).ifPresent(p -> {
                            p.destroyForcibly();
                            kills.incrementAndGet();
                        });
                    }
                }
                return;
            }
            Random random = new Random(300 + client);
            try (RawKeepAlive connection = new RawKeepAlive(tomcat.port(), Duration.ofSeconds(30))) {
                for (int i = 0; System.nanoTime() < deadline; i++) {
                    int bytes = random.nextInt(64 * 1024);
                    gets.incrementAndGet();
                    try {
                        RawResponse answer = connection.exchange("GET",
                                "/pair/download?bytes=" + bytes + "&id=" + client + "-" + i, null);
                        if (answer.status() != 200 || !TestBodies.isModulo251(answer.body(), bytes)) {
                            failures.add(client + "-" + i + ": " + answer.status() + " " + answer.body().length + " B");
                        }
                    } catch (IOException | RuntimeException e) {
                        failures.add(client + "-" + i + ": " + e);
                    }
                }
            }
        });
        System.out.println("[pool] kills " + kills + ", GETs " + gets + ", failed " + failures.size());
        assertTrue(kills.get() >= 4, "killed only " + kills + " times");
        assertTrue(failures.isEmpty(), failures.size() + " of " + gets + " GETs failed, e.g. "
                + failures.stream().limit(8).toList());
        Poll.until(Duration.ofSeconds(20), "the pool is whole again", () -> readyPids("/pair").size() == 2);
        // every killed process was replaced (a dying one may have been ejected as an outlier before its exit was known)
        assertTrue(((Number) app("/pair").get("starts")).intValue() >= 2 + kills.get(), app("/pair").toString());
    }

    /**
     * Touching restart.txt under load: the new generation (whose processes take 2.5 s to
     * listen) starts beside the serving one; no request fails, none waits for the cold start,
     * and afterwards only new processes serve.
     */
    @Test
    void aRecycleUnderLoadFailsNoRequestAndWaitsForNoColdStart() throws Exception {
        Path dir = tomcat.nodeApp("rolling", "processesPerApplication=\"2\"", Map.of("BACKEND_START_DELAY_MS", "2500"));
        Poll.until(Duration.ofSeconds(20), "two ready processes", () -> {
            pid("/rolling");
            return readyPids("/rolling").size() == 2;
        });
        Set<Long> before = Set.copyOf(readyPids("/rolling"));
        long generation = ((Number) app("/rolling").get("generation")).longValue();
        AtomicBoolean recycled = new AtomicBoolean();
        List<Long> steady = Collections.synchronizedList(new ArrayList<>());
        List<Long> during = Collections.synchronizedList(new ArrayList<>());
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean touched = new AtomicBoolean();
        int clients = 4;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Concurrently.run(clients + 1, LOAD_LIMIT, client -> {
            if (client == clients) {
                Thread.sleep(1500);
                touch(dir.resolve("restart.txt"));
                touched.set(true);
                Poll.until(Duration.ofSeconds(25), "the new generation alone serving",
                        () -> ((Number) app("/rolling").get("generation")).longValue() != generation
                        && processes("/rolling").size() == 2
                        && processes("/rolling").stream().allMatch(p -> "ready".equals(p.get("state"))));
                Thread.sleep(500);
                recycled.set(true);
                return;
            }
            // Tomcat's maxKeepAliveRequests (100) closes a connection now and then, said honestly
            try (RawKeepAlive connection = new RawKeepAlive(tomcat.port(), Duration.ofSeconds(30))) {
                for (int i = 0; !recycled.get() && System.nanoTime() < end; i++) {
                    boolean duringRecycle = touched.get();
                    long begin = System.nanoTime();
                    RawResponse answer = connection.exchange("GET", "/rolling/download?bytes=2000&id=" + client + "-" + i, null);
                    long millis = (System.nanoTime() - begin) / 1_000_000;
                    (duringRecycle ? during : steady).add(millis);
                    if (answer.status() != 200 || !TestBodies.isModulo251(answer.body(), 2000)) {
                        failures.add(client + "-" + i + ": " + answer.status() + " " + answer.head() + " "
                                + answer.body().length + " B");
                        return;
                    }
                }
            }
        });
        System.out.println("[recycle] steady p99 " + percentile(steady, 0.99) + " ms over " + steady.size()
                + " requests; during the recycle p99 " + percentile(during, 0.99) + " ms, max "
                + percentile(during, 1.0) + " ms over " + during.size());
        assertTrue(recycled.get(), "the recycle did not finish");
        assertTrue(failures.isEmpty(), "failed: " + failures);
        assertTrue(during.size() > 20, "too few requests during the recycle: " + during.size());
        assertTrue(percentile(during, 1.0) < 2000,
                "a request waited for the 2.5 s cold start: max " + percentile(during, 1.0) + " ms");
        Set<Long> after = Set.copyOf(readyPids("/rolling"));
        assertTrue(Collections.disjoint(before, after), "old " + before + ", new " + after);
        for (long old : before) {
            Poll.until(Duration.ofSeconds(10), "old process " + old + " stopped",
                    () -> ProcessHandle.of(old).map(p -> !p.isAlive()).orElse(true));
        }
    }

    /**
     * A request its generation admitted is that generation's to answer, even while it belongs to
     * no process yet: one waiting for the app's first start when the app is recycled is served,
     * not answered 502.5 "is stopping", and the old generation stops only once it has answered.
     */
    @Test
    void aRequestWaitingForTheFirstStartIsServedThoughTheAppIsRecycledMeanwhile() throws Exception {
        Path dir = tomcat.nodeApp("parked", "", Map.of("BACKEND_START_DELAY_MS", "1500"));
        CompletableFuture<HttpResponse<String>> waiting = tomcat.client().sendAsync(
                HttpRequest.newBuilder(tomcat.uri("/parked/echo?id=waiting")).build(), HttpResponse.BodyHandlers.ofString());
        Poll.until(Duration.ofSeconds(10), "the first process starting: " + app("/parked"),
                () -> "starting".equals(app("/parked").get("state")));
        long generation = ((Number) app("/parked").get("generation")).longValue();
        touch(dir.resolve("restart.txt"));
        Poll.until(Duration.ofSeconds(10), "the new generation in the slot",
                () -> ((Number) app("/parked").get("generation")).longValue() != generation);
        HttpResponse<String> answer = waiting.get(20, TimeUnit.SECONDS);
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals("id=waiting", Json.field(answer.body(), "query"));
        assertEquals(200, tomcat.get("/parked/echo").statusCode(), "the new generation serving");
    }

    /**
     * A new version that cannot start: the serving one goes on serving every request, the
     * failure is on the status page, and the next change (fixed) deploys normally.
     */
    @Test
    void aBrokenNewVersionLeavesTheOldOneServing() throws Exception {
        tomcat.nodeApp("steadfast", "", Map.of());
        long oldPid = pid("/steadfast");
        tomcat.writeApp("steadfast", "<portico processPath=\"node\" arguments=\"" + HostingTomcat.NODE_BACKEND
                + "\" rapidFailsPerMinute=\"100\"><environmentVariables><environmentVariable name=\"BACKEND_FAIL_START\""
                + " value=\"1\"/></environmentVariables></portico>");
        Poll.until(Duration.ofSeconds(20), "the failed deployment on the status page: " + app("/steadfast"), () -> {
            assertEquals(oldPid, pid("/steadfast"), "a request went elsewhere than the good process");
            Object failure = app("/steadfast").get("lastFailure");
            return failure != null && failure.toString().contains("did not get ready");
        });
        for (int i = 0; i < 20; i++) {
            assertEquals(oldPid, pid("/steadfast"));
        }
        assertTrue(app("/steadfast").get("lastFailure").toString().contains("failing on purpose")
                || app("/steadfast").get("lastFailure").toString().contains("exited with code 1"), app("/steadfast").toString());
        tomcat.nodeApp("steadfast", "", Map.of("FIXED", "1"));
        Poll.until(Duration.ofSeconds(20), "the fixed version serving", () -> pid("/steadfast") != oldPid);
        Poll.until(Duration.ofSeconds(10), "the old process stopped",
                () -> ProcessHandle.of(oldPid).map(p -> !p.isAlive()).orElse(true));
    }

    /** An invalid portico.xml for a serving app: a 500.19 would be an error page while a good generation exists. */
    @Test
    void anInvalidNewConfigurationLeavesTheServingGenerationServing() {
        tomcat.nodeApp("kept", "", Map.of());
        long oldPid = pid("/kept");
        tomcat.writeApp("kept", "<portico processPath=\"node\" arguments=\"" + HostingTomcat.NODE_BACKEND
                + "\" startupTimeLimit=\"abc\"/>");
        Poll.until(Duration.ofSeconds(10), "the invalid configuration on the status page: " + app("/kept"), () -> {
            Object failure = app("/kept").get("lastFailure");
            return failure != null && failure.toString().contains("startupTimeLimit");
        });
        for (int i = 0; i < 10; i++) {
            assertEquals(oldPid, pid("/kept"), "served by the good generation");
        }
    }

    // ---------------------------------------------------------------- backoff

    @Test
    void failedStartsBackOffAndTheAppIsTriedAgainAfterwards() throws Exception {
        Path broken = Files.createTempFile("portico-broken-", ".marker");
        tomcat.nodeApp("looping", "rapidFailsPerMinute=\"2\" backoffInitialDelayMs=\"4000\"",
                Map.of("BACKEND_FAIL_WHILE_FILE", broken.toString()));
        long generation = ((Number) app("/looping").get("generation")).longValue();
        // a request sees two attempts fail: within rapidFailsPerMinute, no wait
        HttpResponse<String> first = tomcat.get("/looping/");
        assertEquals(502, first.statusCode());
        assertEquals(2, ((Number) app("/looping").get("starts")).intValue());
        // the third failure is beyond it: the page says when the next attempt is (in 3.2 to 4.8 s)
        HttpResponse<String> third = tomcat.get("/looping/");
        assertEquals(502, third.statusCode());
        assertTrue(third.body().contains("The next start will be tried at"), third.body());
        // while backing off, a request is answered at once, and nothing is started
        HttpResponse<String> held = tomcat.get("/looping/");
        assertEquals(502, held.statusCode());
        assertTrue(held.body().contains("backing off"), held.body());
        Map<?, ?> status = app("/looping");
        assertEquals(3, ((Number) status.get("starts")).intValue(), "no start while backing off");
        assertEquals("backoff", status.get("state"));
        assertNotNull(status.get("nextAttemptAt"));
        // never failed for good: the app is fixed without a recycle, and once the wait is over a
        // request starts it again, in the same generation
        Files.delete(broken);
        Poll.until(Duration.ofSeconds(20), "the fixed app served after its backoff",
                () -> tomcat.get("/looping/").statusCode() == 200);
        assertEquals(generation, ((Number) app("/looping").get("generation")).longValue(), "no recycle was needed");
    }

    // ---------------------------------------------------------------- limits

    /** Rolling: a process past the limit serves on until its replacement is ready, so no request waits or fails. */
    @Test
    void aProcessIsReplacedAfterMaxRequestsPerProcessWithoutAFailedRequest() {
        tomcat.nodeApp("limited", "maxRequestsPerProcess=\"10\"", Map.of());
        Map<Long, Integer> servedBy = new java.util.LinkedHashMap<>();
        Poll.until(Duration.ofSeconds(30), "a third process after two reached the limit: " + servedBy, () -> {
            servedBy.merge(pid("/limited"), 1, Integer::sum);
            return servedBy.size() >= 3;
        });
        List<Integer> counts = new ArrayList<>(servedBy.values());
        assertTrue(counts.get(0) >= 10 && counts.get(1) >= 10, "each replaced process served its 10 first: " + servedBy);
        long firstPid = servedBy.keySet().iterator().next();
        Poll.until(Duration.ofSeconds(15), "the first process stopped",
                () -> ProcessHandle.of(firstPid).map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void aProcessAboveMemoryLimitIsReplaced() {
        tomcat.nodeApp("hungry", "memoryLimit=\"200\"", Map.of());
        long first = pid("/hungry");
        HttpResponse<String> grown = tomcat.get("/hungry/grow?mb=300");
        assertEquals(200, grown.statusCode(), grown.body());
        Poll.until(Duration.ofSeconds(20), "a new process after the limit", () -> pid("/hungry") != first);
        Poll.until(Duration.ofSeconds(15), "the hungry process stopped",
                () -> ProcessHandle.of(first).map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void anIdleAppStopsItsProcessesAndTheNextRequestStartsThem() {
        tomcat.nodeApp("sleepy", "idleTimeout=\"1\"", Map.of());
        long first = pid("/sleepy");
        Poll.until(Duration.ofSeconds(15), "idle", () -> "idle".equals(app("/sleepy").get("state")));
        Poll.until(Duration.ofSeconds(15), "the idle process stopped",
                () -> ProcessHandle.of(first).map(p -> !p.isAlive()).orElse(true));
        assertNotEquals(first, pid("/sleepy"));
    }

    @Test
    void requestsBeyondMaxQueuedRequestsAre503AtOnce() throws Exception {
        tomcat.nodeApp("queue", "maxQueuedRequests=\"2\"", Map.of("BACKEND_START_DELAY_MS", "2000"));
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            responses.add(tomcat.client().sendAsync(HttpRequest.newBuilder(tomcat.uri("/queue/env")).build(),
                    HttpResponse.BodyHandlers.ofString()));
            Thread.sleep(50);
        }
        List<HttpResponse<String>> answers = responses.stream().map(CompletableFuture::join).toList();
        assertEquals(2, answers.stream().filter(r -> r.statusCode() == 200).count(), answers.toString());
        List<HttpResponse<String>> turnedAway = answers.stream().filter(r -> r.statusCode() == 503).toList();
        assertEquals(4, turnedAway.size(), answers.toString());
        for (HttpResponse<String> response : turnedAway) {
            assertEquals("1", response.headers().firstValue("Retry-After").orElse(null));
            assertTrue(response.body().contains("maxQueuedRequests"), response.body());
        }
    }

    @Test
    void aProcessFailingAtTheGatewayAgainAndAgainIsEjectedAndReplaced() {
        tomcat.nodeApp("outlier", "maxConsecutiveFailures=\"3\"", Map.of());
        long first = pid("/outlier");
        for (int i = 0; i < 3; i++) {
            assertEquals(503, tomcat.get("/outlier/status?code=503").statusCode(), "the backend's own 503 passes");
        }
        Poll.until(Duration.ofSeconds(20), "a replacement serving", () -> pid("/outlier") != first);
    }

    @Test
    void aProcessFailingItsHealthChecksIsReplaced() {
        tomcat.nodeApp("ailing", "readinessPath=\"/healthz\" healthCheckInterval=\"1\"", Map.of());
        long first = pid("/ailing");
        assertEquals(200, tomcat.get("/ailing/sick").statusCode());
        Poll.until(Duration.ofSeconds(20), "a healthy replacement serving", () -> pid("/ailing") != first);
    }

    // ---------------------------------------------------------------- races with the pool's own decisions

    /**
     * An upgraded connection is a request in flight until it closes: idleTimeout must not stop
     * the process under an open WebSocket, though no new request has come for longer than that.
     */
    @Test
    void anOpenUpgradedConnectionKeepsAnIdleAppRunning() throws Exception {
        tomcat.nodeApp("tunnelled", "idleTimeout=\"1\"", Map.of());
        long pid = pid("/tunnelled");
        try (RawConnection tunnel = tomcat.upgradeToEcho("/tunnelled/raw-echo", Duration.ofSeconds(10))) {
            RawResponseHead head = tunnel.readHead();
            assertTrue(head.statusLine().startsWith("HTTP/1.1 101"), head.toString());
            assertEquals("1", inFlight("/tunnelled"), "the open tunnel is in flight");
            // three maintenance rounds past idleTimeout with no request but the tunnel
            Thread.sleep(3500);
            assertEquals("running", app("/tunnelled").get("state"));
            tunnel.send("still here");
            assertEquals("still here", new String(tunnel.readBytes(10), java.nio.charset.StandardCharsets.ISO_8859_1));
            assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the tunnel's process stopped");
        }
        Poll.until(Duration.ofSeconds(10), "the closed tunnel counted out", () -> "0".equals(inFlight("/tunnelled")));
        Poll.until(Duration.ofSeconds(15), "idle once the tunnel closed",
                () -> "idle".equals(app("/tunnelled").get("state")));
    }

    private static String inFlight(String path) {
        return String.valueOf(((Number) app(path).get("inFlight")).intValue());
    }

    /**
     * A request that comes while an idle app's processes are still stopping waits and is served
     * by a fresh process, as one that comes a moment later is: idleTimeout is no outage.
     */
    @Test
    void aRequestDuringAnIdleStopIsServedByAFreshProcess() {
        // the process ignores the shutdown request and SIGTERM: its stop takes shutdownTimeLimit (5 s)
        tomcat.nodeApp("drowsy", "idleTimeout=\"1\"", Map.of("BACKEND_IGNORE_SIGTERM", "1"));
        long first = pid("/drowsy");
        Poll.until(Duration.ofSeconds(15), "stopping for idleness",
                () -> "stopping".equals(app("/drowsy").get("state")));
        HttpResponse<String> during = tomcat.get("/drowsy/env");
        assertEquals(200, during.statusCode(), during.body());
        assertNotEquals(String.valueOf(first), Json.field(during.body(), "pid"));
        Poll.until(Duration.ofSeconds(15), "the idle process stopped",
                () -> ProcessHandle.of(first).map(p -> !p.isAlive()).orElse(true));
    }
}
