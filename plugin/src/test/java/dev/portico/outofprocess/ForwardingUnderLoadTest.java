package dev.portico.outofprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Concurrently;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.RawConnection;
import dev.portico.testsupport.RawKeepAlive;
import dev.portico.testsupport.RawRequestBody;
import dev.portico.testsupport.RawResponse;
import dev.portico.testsupport.TestBodies;
import dev.portico.testsupport.TruncatedBody;

/**
 * The forwarding path under concurrency, in an embedded Tomcat with a real Node backend: many
 * keep-alive clients at once, bodies of every size class, streams that clients abandon. Every
 * answer is checked byte for byte and belongs to the request that asked for it; every failure is
 * counted. Bounded in requests and time (the suites of integration-tests go further, against the
 * real distribution).
 */
class ForwardingUnderLoadTest {

    /** How long the concurrent clients of one test may take together. */
    private static final Duration LOAD_LIMIT = Duration.ofSeconds(170);

    private static final int CLIENTS = 6;
    private static final int[] SIZES = {0, 1, 100, 4095, 4096, 4097, 7016, 8000, 16 * 1024 + 3, 64 * 1024, 300_000, 1 << 20};

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> valve.setStartupTimeLimit(20)).withStatusPage();

    @BeforeAll
    static void start() throws Exception {
        tomcat.nodeApp("load", "", Map.of());
        assertEquals(200, tomcat.get("/load/").statusCode());
    }

    /** Bodies around Tomcat's 4 KiB and 8 KiB buffer edges used to lose their tail under concurrency (502.3). */
    @Test
    @Timeout(180)
    void concurrentKeepAliveBodiesOfEverySizeArriveWhole() throws Exception {
        AtomicInteger sent = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        Concurrently.run(CLIENTS, LOAD_LIMIT, client -> {
            Random random = new Random(client);
            try (RawKeepAlive connection = new RawKeepAlive(tomcat.port(), Duration.ofSeconds(30))) {
                for (int i = 0; i < 120; i++) {
                    int size = i < SIZES.length * 2 ? SIZES[i % SIZES.length] : SIZES[random.nextInt(SIZES.length - 2)];
                    boolean chunked = (i + client) % 3 == 0;
                    boolean expectContinue = (i + client) % 5 == 0;
                    byte[] body = new byte[size];
                    random.nextBytes(body);
                    String id = client + "-" + i;
                    RawRequestBody framed = chunked ? RawRequestBody.chunked(body, 1 + random.nextInt(9000)) : RawRequestBody.sized(body);
                    if (expectContinue) {
                        framed = framed.expectingContinueWithoutWaiting();
                    }
                    sent.incrementAndGet();
                    try {
                        RawResponse answer = connection.exchange("POST", "/load/echo?id=" + id, framed);
                        String json = answer.text();
                        if (answer.status() != 200 || !("id=" + id).equals(Json.field(json, "query"))
                                || !String.valueOf(size).equals(Json.field(json, "bodyLength"))
                                || !TestBodies.sha256(body).equals(Json.field(json, "bodySha256"))) {
                            failures.add(id + " (" + size + " B, chunked " + chunked + "): " + answer.status() + " "
                                    + json.substring(0, Math.min(200, json.length())));
                        }
                    } catch (IOException | RuntimeException e) {
                        failures.add(id + " (" + size + " B, chunked " + chunked + "): " + e);
                    }
                }
            }
        });
        System.out.println("[load] keep-alive bodies: sent " + sent + ", failed " + failures.size());
        assertTrue(failures.isEmpty(), failures.size() + " of " + sent + " lost or corrupted, e.g. " + failures.stream().limit(5).toList());
    }

    /**
     * Clients that abandon server-sent-event streams mid-way, interleaved with streams and
     * requests that must arrive complete: an abandoned exchange must neither cut another one
     * nor write into it (Tomcat reuses a request's objects for the next request).
     */
    @Test
    @Timeout(180)
    void abandonedStreamsLeaveOtherExchangesWhole() throws Exception {
        AtomicInteger sent = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        Concurrently.run(CLIENTS, LOAD_LIMIT, client -> {
            Random random = new Random(100 + client);
            for (int i = 0; i < 40; i++) {
                String id = client + "-" + i;
                sent.incrementAndGet();
                try {
                    if (client % 2 == 0) {
                        // abandon a stream after a random part of it
                        RawConnection abandoned = tomcat.connect(Duration.ofSeconds(10));
                        abandoned.send("GET /load/sse?count=40&intervalMs=5&id=" + id + " HTTP/1.1\r\nHost: x\r\n\r\n");
                        abandoned.readSome(1 + random.nextInt(300));
                        abandoned.abort();
                    }
                    try (RawConnection connection = tomcat.connect(Duration.ofSeconds(20))) {
                        connection.send("GET /load/sse?count=6&intervalMs=3&id=" + id + " HTTP/1.1\r\nHost: x\r\n\r\n");
                        RawResponse stream = connection.readResponse("GET");
                        String expected = "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\ndata: 5\n\n";
                        if (stream.status() != 200 || !expected.equals(stream.text())) {
                            failures.add("stream " + id + ": " + stream.status() + " " + stream.text());
                        }
                        int bytes = 1 + random.nextInt(200_000);
                        connection.send("GET /load/download?bytes=" + bytes + "&id=" + id + " HTTP/1.1\r\nHost: x\r\n\r\n");
                        RawResponse download = connection.readResponse("GET");
                        if (download.status() != 200 || !TestBodies.isModulo251(download.body(), bytes)) {
                            failures.add("download " + id + ": " + download.status() + " " + download.body().length + " B");
                        }
                        connection.send("GET /load/echo?id=" + id + " HTTP/1.1\r\nHost: x\r\n\r\n");
                        RawResponse echo = connection.readResponse("GET");
                        if (echo.status() != 200 || !("id=" + id).equals(Json.field(echo.text(), "query"))) {
                            failures.add("echo " + id + ": " + echo.status() + " " + echo.text());
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    failures.add(id + ": " + e);
                }
            }
        });
        System.out.println("[load] abandoned streams: rounds " + sent + ", failed " + failures.size());
        assertTrue(failures.isEmpty(), failures.size() + " of " + sent + " rounds failed, e.g. " + failures.stream().limit(5).toList());
    }

    /**
     * SIGKILL of the backend every 1.5 s under keep-alive load. Every GET whose answer is at most
     * 64 KiB is answered whole (a GET that met the dead process is sent again to the next one);
     * a larger answer that was already streaming when its process died cannot be sent again, and
     * must end as a detectably incomplete response (the connection closes before the declared
     * length), never as a short body taken for whole. A POST may get a clean 502 page, which must
     * either leave the connection usable or say {@code Connection: close} — never a 500, never a
     * silently closed keep-alive connection.
     */
    @Test
    @Timeout(180)
    void backendKilledUnderLoadLosesNoIdempotentRequest() throws Exception {
        tomcat.nodeApp("victim", "rapidFailsPerMinute=\"100\"", Map.of());
        assertEquals(200, tomcat.get("/victim/").statusCode());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
        AtomicInteger gets = new AtomicInteger();
        AtomicInteger posts = new AtomicInteger();
        AtomicInteger posts502 = new AtomicInteger();
        AtomicInteger kills = new AtomicInteger();
        AtomicInteger cutLarge = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        // the last of the threads is the killer; the others are clients
        Concurrently.run(CLIENTS + 1, LOAD_LIMIT, client -> {
            if (client == CLIENTS) {
                while (System.nanoTime() < deadline) {
                    Thread.sleep(1500);
                    String pid = Json.field(tomcat.get("/victim/env").body(), "pid");
                    if (pid != null) {
                        ProcessHandle.of(Long.parseLong(pid)).ifPresent(process -> {
                            process.destroyForcibly();
                            kills.incrementAndGet();
                        });
                    }
                }
                return;
            }
            Random random = new Random(200 + client);
            try (RawKeepAlive connection = new RawKeepAlive(tomcat.port(), Duration.ofSeconds(30))) {
                for (int i = 0; System.nanoTime() < deadline; i++) {
                    String id = client + "-" + i;
                    boolean post = client % 3 == 2;
                    try {
                        if (post) {
                            posts.incrementAndGet();
                            byte[] body = new byte[random.nextInt(20_000)];
                            random.nextBytes(body);
                            RawResponse answer = connection.exchange("POST", "/victim/echo?id=" + id,
                                    RawRequestBody.sized(body));
                            if (answer.status() == 502) {
                                posts502.incrementAndGet();
                            } else if (answer.status() != 200
                                    || !TestBodies.sha256(body).equals(Json.field(answer.text(), "bodySha256"))) {
                                failures.add("POST " + id + ": " + answer.status() + " " + answer.text());
                            }
                            continue;
                        }
                        gets.incrementAndGet();
                        int bytes = random.nextInt(i % 4 == 0 ? 300_000 : 64 * 1024);
                        RawResponse answer;
                        try {
                            answer = connection.exchange("GET", "/victim/download?bytes=" + bytes + "&id=" + id, null);
                        } catch (TruncatedBody cut) {
                            if (bytes <= 64 * 1024) {
                                throw cut;
                            }
                            cutLarge.incrementAndGet();
                            continue;
                        }
                        if (answer.status() != 200 || !TestBodies.isModulo251(answer.body(), bytes)) {
                            failures.add("GET " + id + ": " + answer.status() + " " + answer.body().length + " B");
                        }
                    } catch (IOException | RuntimeException e) {
                        failures.add((post ? "POST " : "GET ") + id + ": " + e);
                    }
                }
            }
        });
        System.out.println("[load] kills: " + kills + ", GETs " + gets + " (large ones cut mid-stream: " + cutLarge
                + "), POSTs " + posts + " (502: " + posts502 + "), failed " + failures.size());
        assertTrue(kills.get() >= 4, "the backend was killed only " + kills + " times");
        assertTrue(failures.isEmpty(), failures.size() + " failed, e.g. " + failures.stream().limit(8).toList());
    }

    /** Every exchange ends exactly once, however it ended: a leak here would make every later drain wait its full limit. */
    @org.junit.jupiter.api.AfterEach
    void nothingLeftInFlight() {
        tomcat.awaitNothingInFlight(Duration.ofSeconds(10), "no request in flight");
    }
}
