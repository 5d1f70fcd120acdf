package dev.portico.outofprocess;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.CapturedLog;
import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.RawConnection;
import dev.portico.testsupport.RawHttp;
import dev.portico.testsupport.RawResponse;
import dev.portico.testsupport.RawResponseHead;
import dev.portico.testsupport.TestBodies;

/** HTTP upgrades out-of-process: the WebSocket and protocol switches Jetty's ProxyServlet drops. */
class UpgradeForwardingTest {

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> valve.setShutdownTimeLimit(2));

    @BeforeAll
    static void start() throws Exception {
        tomcat.nodeApp("up", "", Map.of());
    }

    @Test
    void aWebSocketReachesTheBackendAndEchoes() throws Exception {
        assertEquals("hello through Portico", tomcat.webSocketRoundTrip("/up/ws-echo", "hello through Portico"));
    }

    @Test
    void anyProtocolSwitchIsTunnelledBothWaysWithForwardingHeadersOwnedByPortico() throws Exception {
        // a megabyte each way, written while it is read back: back-pressure, not buffering, keeps it flowing
        RawResponseHead head = tomcat.assertEchoedThroughUpgrade("/up/raw-echo", TestBodies.random(1024 * 1024, 7),
                Duration.ofSeconds(10), "X-Forwarded-For: 6.6.6.6");
        assertEquals(List.of("127.0.0.1"), head.values("X-Forwarded-For-Seen"), head.toString());
        assertEquals(List.of("127.0.0.1"), head.values("X-Host-Seen"),
                "the client's Host reaches the backend on an upgrade too: " + head);
    }

    /**
     * An echoed burst far larger than the socket buffers, written while it is read back: the
     * tunnel's client-to-backend side used to wait for each write on the container thread, which
     * kept Tomcat from delivering the write events the echo needed (stalled at 32 MiB over TCP).
     */
    @Test
    void anEchoedBurstLargerThanTheSocketBuffersFlows() throws Exception {
        tomcat.assertEchoedThroughUpgrade("/up/raw-echo", TestBodies.random(32 * 1024 * 1024, 8), Duration.ofSeconds(60));
    }

    /** Burst after burst on one tunnel, each echo awaited whole (see HostingTomcat.assertBurstsEchoedThroughUpgrade). */
    @Test
    void burstAfterBurstEveryEchoComesBackWhole() throws Exception {
        tomcat.assertBurstsEchoedThroughUpgrade("/up/raw-echo", 30);
    }

    /**
     * A client that writes a large stream without reading the echo: once the buffers on the way
     * are full, its writes stop, because the tunnel reads from neither side more than it can pass
     * on — back-pressure through both directions, memory bounded. What can be in flight is the
     * socket buffers of four loopback connections (Linux autotunes them up to tcp_rmem/tcp_wmem's
     * maximum: 32 + 4 MiB each on the machine this was written on, under 160 MiB in all; 12–30 MiB
     * measured) and the tunnel's own (one buffer per direction, {@code QUEUE_LIMIT} queued). Then
     * the client reads again, and every byte comes back in order.
     */
    @Test
    void aClientThatStopsReadingTheEchoIsHeldBackRatherThanBuffered() throws Exception {
        long total = 1024L * 1024 * 1024;
        int chunk = 64 * 1024;
        try (RawConnection connection = tomcat.upgradeToEcho("/up/raw-echo", Duration.ofSeconds(20))) {
            RawResponseHead head = connection.readHead();
            assertTrue(head.statusLine().startsWith("HTTP/1.1 101"), head.toString());

            AtomicLong written = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                Random bytes = new Random(11);
                byte[] buffer = new byte[chunk];
                try {
                    while (written.get() < total && !stop.get()) {
                        bytes.nextBytes(buffer);
                        connection.send(buffer);
                        written.addAndGet(chunk);
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            // nobody reads: wait until the writer stops making progress
            long seen = -1;
            int quiet = 0;
            while (quiet < 10 && !writer.isDone()) {
                Thread.sleep(100);
                long now = written.get();
                quiet = now == seen ? quiet + 1 : 0;
                seen = now;
            }
            long held = written.get();
            System.out.println("tunnel back-pressure: " + held + " bytes taken before the writer stopped");
            assertFalse(writer.isDone(), "the whole stream was taken while nobody read the echo: " + held + " bytes");
            assertTrue(held < 256L * 1024 * 1024, "bytes taken while nobody read the echo: " + held);

            // read again: the stalled chunk goes through, the writer stops, and all of it comes back
            stop.set(true);
            Random expected = new Random(11);
            byte[] want = new byte[chunk];
            byte[] got;
            long received = 0;
            while (received < written.get() || !writer.isDone()) {
                if (received == written.get()) {
                    Thread.sleep(1); // the writer's last chunk is on its way
                    continue;
                }
                expected.nextBytes(want);
                got = connection.readBytes(chunk);
                assertEquals(chunk, got.length, "the echo ended at " + received);
                assertArrayEquals(want, got, "the echo differs in the chunk at " + received);
                received += chunk;
            }
            writer.get(20, TimeUnit.SECONDS);
            assertEquals(written.get(), received);
        }
    }

    /** The upgrade's head is filtered as any forwarded request's: no Proxy ("httpoxy"), no Expect, nothing the client called hop-by-hop. */
    @Test
    void anUpgradeCarriesNoHopByHopOrHttpoxyHeaders() throws Exception {
        Path record = Files.createTempFile("portico-upgrade-record", ".jsonl");
        try {
            tomcat.nodeApp("uprec", "", Map.of("BACKEND_RECORD_FILE", record.toString()));
            try (RawConnection connection = tomcat.connect(Duration.ofSeconds(10))) {
                connection.send(RawHttp.head("GET", "/uprec/raw-echo", "Connection: Upgrade, X-Secret-Hop",
                        "Upgrade: echo", "X-Secret-Hop: 1", "Proxy: http://evil.example:3128", "X-Kept: yes"));
                RawResponseHead head = connection.readHead();
                assertTrue(head.statusLine().startsWith("HTTP/1.1 101"), head.toString());
            }
            String recorded = Files.readString(record).toLowerCase(java.util.Locale.ROOT);
            assertTrue(recorded.contains("\"x-kept\""), recorded);
            assertFalse(recorded.contains("\"proxy\""), "Proxy reached the backend: " + recorded);
            assertFalse(recorded.contains("x-secret-hop"), "a header the client named in Connection reached the backend: " + recorded);
        } finally {
            Files.deleteIfExists(record);
        }
    }

    @Test
    void aRefusedUpgradeIsPassedBackAsTheBackendAnsweredIt() throws Exception {
        try (RawConnection connection = tomcat.upgradeToEcho("/up/nowhere", Duration.ofSeconds(10))) {
            RawResponseHead head = connection.readHead();
            assertTrue(head.statusLine().startsWith("HTTP/1.1 404"), head.toString());
            assertEquals("no such upgrade \r\n", new String(connection.readBytes(18), StandardCharsets.ISO_8859_1));
        }
    }

    /** A broken backend's refusal is a bad answer like any other: 502 naming the backend, never Tomcat's 500. */
    @Test
    void aRefusalWithAMalformedLengthIsA502NamingTheBackend() throws Exception {
        for (String path : List.of("/up/refuse-bad-length", "/up/refuse-bad-chunk")) {
            try (CapturedLog log = new CapturedLog();
                    RawConnection connection = tomcat.upgradeToEcho(path, Duration.ofSeconds(10))) {
                RawResponse answer = connection.readResponse("GET");
                assertEquals(502, answer.status(), path + ": " + answer.text());
                assertTrue(answer.text().contains("malformed"), path + ": " + answer.text());
                assertTrue(log.messages(Level.WARNING).stream().anyMatch(line -> line.contains("malformed")
                        && line.contains("pid ")), path + ": " + log.messages(Level.WARNING));
                assertEquals(List.of(), log.messages(Level.SEVERE), path);
            }
        }
    }
}
