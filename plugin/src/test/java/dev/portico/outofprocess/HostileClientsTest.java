package dev.portico.outofprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.CapturedLog;
import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;
import dev.portico.testsupport.RawConnection;
import dev.portico.testsupport.RawHttp;
import dev.portico.testsupport.RawResponse;

/**
 * Clients that misbehave on purpose, over raw sockets, against one out-of-process app: none may
 * hold up other clients or count against the app's process. One Jetty selector thread reads
 * every backend's answers for the whole Host, and Portico's response listeners run on it
 * (BackendClient): nothing a client does may make that thread, or the forwarding pool, run
 * something that waits. The probe for that: a plain servlet of the same Host that blocks (as any
 * in-process app may), and a well-behaved client whose forwarded requests must still be answered
 * (generous liveness bounds, not timings).
 */
class HostileClientsTest {

    /** Threads the blocking servlet ran on. */
    private static final ConcurrentLinkedQueue<String> blockedThreads = new ConcurrentLinkedQueue<>();
    private static volatile CountDownLatch release = new CountDownLatch(0);

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> valve.setStartupTimeLimit(20),
            HostileClientsTest::addBlockingServlet).withStatusPage();

    @BeforeAll
    static void start() throws Exception {
        tomcat.nodeApp("node", "", Map.of());
        assertEquals(200, tomcat.get("/node/").statusCode());
    }

    private static void addBlockingServlet(Tomcat embedded) {
        // a client that stops reading is given up on after this long (Tomcat's write timeout)
        embedded.getConnector().setProperty("connectionTimeout", "3000");
        Context context = embedded.addContext("/blocking", null);
        Tomcat.addServlet(context, "blocking", new HttpServlet() {
            @Override
            protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                blockedThreads.add(Thread.currentThread().getName());
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                resp.setContentType("text/plain");
                resp.getWriter().print("unblocked");
            }
        });
        context.addServletMappingDecoded("/*", "blocking");
    }

    @AfterAll
    static void stop() throws Exception {
        release.countDown();
    }

    /**
     * An upload larger than what Portico holds for a backend that is not reading yet (Node's
     * /slow reads nothing until it answers): reading pauses, and resumes on a Jetty thread once
     * the backend takes the body. The request pipelined behind it must be served on a thread of
     * Tomcat's, never on the Jetty thread that happened to read the end of the body.
     */
    @Test
    @Timeout(120)
    void requestPipelinedBehindAPausedUploadDoesNotRunOnAForwardingThread() throws Exception {
        release = new CountDownLatch(1);
        blockedThreads.clear();
        byte[] body = new byte[24 * 1024 * 1024];
        try (RawConnection hostile = tomcat.connect(Duration.ofSeconds(60))) {
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    hostile.send("POST /node/slow?ms=1000 HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length + "\r\n\r\n");
                    hostile.send(body);
                    hostile.send("GET /blocking/ HTTP/1.1\r\nHost: x\r\n\r\n");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            RawResponse upload = hostile.readResponse("POST");
            assertEquals(200, upload.status());
            sent.get(30, TimeUnit.SECONDS);
            Poll.until(Duration.ofSeconds(20), "the pipelined request reached its servlet",
                    () -> !blockedThreads.isEmpty());
            String thread = blockedThreads.peek();
            System.out.println("[selector] pipelined request served on " + thread);
            // while that servlet blocks, the Host's other clients are still forwarded
            HttpResponse<String> other = tomcat.client().sendAsync(
                    HttpRequest.newBuilder(tomcat.uri("/node/echo")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()).handle((r, e) -> r).get(15, TimeUnit.SECONDS);
            release.countDown();
            assertEquals("unblocked", hostile.readResponse("GET").text());
            assertFalse(thread.startsWith("portico-forward"), "a forwarding thread ran an app's servlet: " + thread);
            assertTrue(other != null && other.statusCode() == 200,
                    "another client's forwarded request was not answered while the servlet blocked: " + other);
        } finally {
            release.countDown();
        }
    }

    /**
     * Hostile clients all at once: downloads nobody reads, server-sent event streams, bodies sent
     * a byte at a time, uploads cut in the middle again and again. Meanwhile one well-behaved
     * client's forwarded requests are each answered (a generous liveness bound per request).
     */
    @Test
    @Timeout(180)
    void wellBehavedClientIsServedWhileHostileClientsPress() throws Exception {
        int port = tomcat.port();
        java.util.List<RawConnection> hostile = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.ExecutorService pressure = java.util.concurrent.Executors.newCachedThreadPool();
        try {
            for (int i = 0; i < 10; i++) {
                RawConnection stalled = RawHttp.connect(port, Duration.ofSeconds(60));
                stalled.send("GET /node/download?bytes=" + (64 * 1024 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n");
                hostile.add(stalled);
            }
            for (int i = 0; i < 30; i++) {
                RawConnection sse = RawHttp.connect(port, Duration.ofSeconds(60));
                sse.send("GET /node/sse?count=100000&intervalMs=5 HTTP/1.1\r\nHost: x\r\n\r\n");
                hostile.add(sse);
                pressure.submit(() -> {
                    while (running.get() && sse.readSome(4096).length > 0) {
                        // reads the stream as it comes
                    }
                    return null;
                });
            }
            for (int i = 0; i < 5; i++) {
                RawConnection slowloris = RawHttp.connect(port, Duration.ofSeconds(60));
                slowloris.send("POST /node/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
                hostile.add(slowloris);
                pressure.submit(() -> {
                    while (running.get()) {
                        slowloris.send(new byte[] {'x'});
                        Thread.sleep(200);
                    }
                    return null;
                });
            }
            for (int i = 0; i < 4; i++) {
                pressure.submit(() -> {
                    byte[] part = new byte[1024 * 1024];
                    while (running.get()) {
                        try (RawConnection cut = RawHttp.connect(port, Duration.ofSeconds(10))) {
                            cut.send("POST /node/slow?ms=50 HTTP/1.1\r\nHost: x\r\nContent-Length: " + (16 * part.length) + "\r\n\r\n");
                            for (int k = 0; k < 6; k++) {
                                cut.send(part);
                            }
                            cut.abort();
                        } catch (IOException e) {
                            // the front may close first: that is a cut too
                        }
                    }
                    return null;
                });
            }
            long worst = 0;
            for (int i = 0; i < 100; i++) {
                long start = System.nanoTime();
                HttpResponse<String> answer = tomcat.client().send(
                        HttpRequest.newBuilder(tomcat.uri("/node/echo?probe=" + i)).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                worst = Math.max(worst, System.nanoTime() - start);
                assertEquals(200, answer.statusCode());
                Thread.sleep(20);
            }
            System.out.println("[selector] slowest of 100 probes under pressure: " + worst / 1_000_000 + " ms");
        } finally {
            running.set(false);
            hostile.forEach(RawConnection::abort);
            pressure.shutdownNow();
            pressure.awaitTermination(20, TimeUnit.SECONDS);
        }
    }

    /**
     * A client that stops reading a large download and then resets its connection has left; the
     * backend did nothing wrong. Tomcat reports it to the response's write listener (a write it
     * had pending failed); that must not count as a gateway failure of the process — five in a row
     * (maxConsecutiveFailures' default) would eject a healthy process and cut every other
     * client's exchange with it — nor be logged as the backend's failure.
     */
    @Test
    @Timeout(120)
    void clientsThatStallADownloadAndResetDoNotCountAgainstTheProcess() throws Exception {
        stalledDownloadsDoNotCountAgainstTheProcess(true);
    }

    /** The same for clients that stop reading and stay: Tomcat's write timeout (connectionTimeout) gives up on them. */
    @Test
    @Timeout(120)
    void clientsThatStallADownloadUntilTomcatGivesUpDoNotCountAgainstTheProcess() throws Exception {
        stalledDownloadsDoNotCountAgainstTheProcess(false);
    }

    private static void stalledDownloadsDoNotCountAgainstTheProcess(boolean reset) throws Exception {
        String pid = Json.field(tomcat.get("/node/env").body(), "pid");
        List<RawConnection> stalled = new java.util.ArrayList<>();
        try (CapturedLog log = new CapturedLog()) {
            // all begun first (each answer's head counts as a success), then all given up: six in a row
            for (int i = 0; i < 6; i++) {
                RawConnection client = tomcat.connect(Duration.ofSeconds(30));
                stalled.add(client);
                client.send("GET /node/download?bytes=" + (64 * 1024 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertTrue(client.readSome(1024).length > 0, "the download began");
            }
            if (reset) {
                // the clients read no more: the socket buffers fill and Tomcat holds a write pending
                Thread.sleep(1000);
                stalled.forEach(RawConnection::abort);
            }
            tomcat.awaitNothingInFlight(Duration.ofSeconds(30), "the stalled downloads ended");
            List<String> blamed = log.messages(Level.WARNING).stream().filter(m -> m.contains("/node/download")).toList();
            assertEquals(List.of(), blamed, "a client that left was logged as the backend's failure");
        } finally {
            stalled.forEach(RawConnection::abort);
        }
        assertEquals(pid, Json.field(tomcat.get("/node/env").body(), "pid"),
                "clients that left replaced the app's healthy process");
    }
}
