package dev.portico.outofprocess;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.portico.testing.HostingTomcat;

/** HTTP upgrades out-of-process: the WebSocket and protocol switches Jetty's ProxyServlet drops. */
class UpgradeForwardingTest {

    private static HostingTomcat tomcat;

    @BeforeAll
    static void start() throws Exception {
        tomcat = new HostingTomcat(valve -> valve.setShutdownTimeLimit(2));
        tomcat.nodeApp("up", "", Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        if (tomcat != null) {
            tomcat.close();
        }
    }

    @Test
    void aWebSocketReachesTheBackendAndEchoes() throws Exception {
        assertEquals("hello through Portico", tomcat.webSocketRoundTrip("/up/ws-echo", "hello through Portico"));
    }

    @Test
    void anyProtocolSwitchIsTunnelledBothWaysWithForwardingHeadersOwnedByPortico() throws Exception {
        // a megabyte each way, written while it is read back: back-pressure, not buffering, keeps it flowing
        byte[] payload = new byte[1024 * 1024];
        new Random(7).nextBytes(payload);
        HostingTomcat.RawEcho echo = tomcat.rawEcho("/up/raw-echo", "X-Forwarded-For: 6.6.6.6\r\n", payload,
                Duration.ofSeconds(10));
        assertTrue(echo.head().startsWith("HTTP/1.1 101"), echo.head());
        assertTrue(echo.head().contains("X-Forwarded-For-Seen: 127.0.0.1\r\n"), echo.head());
        assertTrue(echo.head().contains("X-Host-Seen: 127.0.0.1\r\n"),
                "the client's Host reaches the backend on an upgrade too: " + echo.head());
        assertArrayEquals(payload, echo.echoed());
    }

    /**
     * An echoed burst far larger than the socket buffers, written while it is read back: the
     * tunnel's client-to-backend side used to wait for each write on the container thread, which
     * kept Tomcat from delivering the write events the echo needed (stalled at 32 MiB over TCP).
     */
    @Test
    void anEchoedBurstLargerThanTheSocketBuffersFlows() throws Exception {
        byte[] payload = new byte[32 * 1024 * 1024];
        new Random(8).nextBytes(payload);
        HostingTomcat.RawEcho echo = tomcat.rawEcho("/up/raw-echo", "", payload, Duration.ofSeconds(60));
        assertTrue(echo.head().startsWith("HTTP/1.1 101"), echo.head());
        assertArrayEquals(payload, echo.echoed());
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
        try (Socket socket = new Socket("127.0.0.1", tomcat.uri("/").getPort())) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(("GET /up/raw-echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String head = readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 101"), head);

            AtomicLong written = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                Random bytes = new Random(11);
                byte[] buffer = new byte[chunk];
                try {
                    while (written.get() < total && !stop.get()) {
                        bytes.nextBytes(buffer);
                        out.write(buffer);
                        written.addAndGet(chunk);
                    }
                    out.flush();
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
            byte[] got = new byte[chunk];
            long received = 0;
            while (received < written.get() || !writer.isDone()) {
                if (received == written.get()) {
                    Thread.sleep(1); // the writer's last chunk is on its way
                    continue;
                }
                expected.nextBytes(want);
                assertEquals(chunk, in.readNBytes(got, 0, chunk), "the echo ended at " + received);
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
            try (Socket socket = new Socket("127.0.0.1", tomcat.uri("/").getPort())) {
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write(("GET /uprec/raw-echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Connection: Upgrade, X-Secret-Hop\r\nUpgrade: echo\r\nX-Secret-Hop: 1\r\n"
                        + "Proxy: http://evil.example:3128\r\nX-Kept: yes\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                assertTrue(readHead(socket.getInputStream()).startsWith("HTTP/1.1 101"));
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
        try (Socket socket = new Socket("127.0.0.1", tomcat.uri("/").getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET /up/nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
                    + "Upgrade: echo\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String head = readHead(socket.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 404"), head);
            assertEquals("no such upgrade \r\n", new String(socket.getInputStream().readNBytes(18), StandardCharsets.ISO_8859_1));
        }
    }

    private static String readHead(InputStream in) throws java.io.IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }
}
