package dev.portico.outofprocess;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.CapturedLog;
import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;
import dev.portico.testsupport.TestBodies;

/**
 * transport="unix": the Node test backend listens on the Unix domain socket Portico names in
 * PORTICO_SOCKET, and everything forwarded over TCP works over it — bodies, live streams,
 * upgrades, readiness, retries after a SIGKILL, the shutdown message — with the socket file in a
 * directory only the Tomcat user can enter, and gone with its process.
 */
class UnixSocketHostingTest {

    private static final CapturedLog log = new CapturedLog();
    private static Path stale;

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> valve.setShutdownTimeLimit(5), embedded -> {
        // a socket left by a Tomcat that was killed: removed before any process starts
        try {
            Path sockets = Files.createDirectories(embedded.getServer().getCatalinaBase().toPath()
                    .resolve("work/Portico/localhost/sockets"));
            stale = Files.createFile(sockets.resolve("0123456789abcdef.sock"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }).withStatusPage();

    @BeforeAll
    static void start() {
        tomcat.nodeApp("uds", "transport=\"unix\"", Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            tomcat.close(); // its stop is checked too
        } finally {
            log.close();
        }
        assertEquals(List.of(), log.messages(Level.SEVERE).stream().filter(m -> !m.contains("[badtransport]")).toList(),
                "no SEVERE log line but the invalid configuration's");
    }

    private static Map<String, Object> env(String app) {
        HttpResponse<String> response = tomcat.get("/" + app + "/env");
        assertEquals(200, response.statusCode(), response.body());
        return Json.object(response.body());
    }

    @Test
    void theBackendGetsASocketInAPrivateDirectoryInsteadOfAPort() throws Exception {
        Map<String, Object> env = env("uds");
        assertNull(env.get("PORTICO_PORT"), "no port with transport=unix: " + env);
        Path socket = Path.of((String) env.get("PORTICO_SOCKET"));
        assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(socket), "a socket at " + socket);
        assertTrue(socket.toString().getBytes(StandardCharsets.UTF_8).length <= 107, socket.toString());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())),
                "the socket directory is private to the Tomcat user");
        assertFalse(Files.exists(stale), "the stale socket of an earlier Tomcat was removed at start");

        String json = tomcat.get("/portico-status?format=json").body();
        assertTrue(json.contains("\"socket\":\"" + socket + "\""), "the status JSON shows the socket: " + json);
        String html = tomcat.send(HttpRequest.newBuilder(tomcat.uri(HostingTomcat.STATUS_PATH)).header("Accept", "text/html")
                .build()).body();
        assertTrue(html.contains("socket " + socket), "the status page shows the socket where it shows a port: " + html);
        assertTrue(log.messages(Level.INFO).stream().anyMatch(m -> m.contains("unix:" + socket)),
                "the log names the socket: " + log.messages(Level.INFO));
    }

    @Test
    void bodiesOfEverySizeCrossIntact() throws Exception {
        for (int size : new int[] {0, 1, 65_535, 65_537, 5 * 1024 * 1024}) {
            byte[] body = new byte[size];
            new Random(size).nextBytes(body);
            HttpResponse<byte[]> mirrored = tomcat.client().send(HttpRequest.newBuilder(tomcat.uri("/uds/mirror"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).timeout(Duration.ofMinutes(1)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, mirrored.statusCode());
            assertArrayEquals(body, mirrored.body(), "body of " + size + " bytes");
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)),
                    mirrored.headers().firstValue("X-Body-Sha256").orElse(""));
        }
        int size = 20 * 1024 * 1024;
        HttpResponse<byte[]> download = tomcat.client().send(HttpRequest.newBuilder(tomcat.uri("/uds/download?bytes=" + size))
                .timeout(Duration.ofMinutes(1)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(size, download.body().length);
        for (int i = 0; i < size; i++) {
            if (download.body()[i] != (byte) (i % 251)) {
                throw new AssertionError("byte " + i + " is not where the backend put it");
            }
        }
    }

    /** The second event is 30 s away: the first arrives only if each chunk is flushed as it comes. */
    @Test
    void aStreamIsRelayedChunkByChunk() throws Exception {
        HttpResponse<InputStream> response = tomcat.client().send(
                HttpRequest.newBuilder(tomcat.uri("/uds/sse?count=2&intervalMs=30000")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals("text/event-stream", response.headers().firstValue("Content-Type").orElse(""));
        CompletableFuture<String> firstEvent = CompletableFuture.supplyAsync(() -> {
            try {
                StringBuilder line = new StringBuilder();
                InputStream in = response.body();
                int c;
                while ((c = in.read()) >= 0) {
                    if (c == '\n') {
                        if (line.toString().startsWith("data:")) {
                            return line.toString();
                        }
                        line.setLength(0);
                    } else {
                        line.append((char) c);
                    }
                }
                return null;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try {
            assertEquals("data: 0", firstEvent.get(10, TimeUnit.SECONDS));
        } finally {
            response.body().close();
        }
    }

    @Test
    void aWebSocketAndARawUpgradeAreTunnelledOverTheSocket() throws Exception {
        assertEquals("hello over a unix socket", tomcat.webSocketRoundTrip("/uds/ws-echo", "hello over a unix socket"));
        // far more than a Unix socket's buffers hold (an echoed 1 MiB burst used to stall)
        tomcat.assertEchoedThroughUpgrade("/uds/raw-echo", TestBodies.random(8 * 1024 * 1024, 11), Duration.ofSeconds(20));
    }

    /**
     * Burst after burst on one tunnel, each waiting for its whole echo before the next: the last
     * bytes of a burst can sit in Tomcat's own buffer while the queue to the backend is full, and
     * no read event comes for them (the client sends nothing more until it has the echo). Before
     * they were always taken, such a tunnel stalled for good about once in ten 8 MiB echoes.
     */
    @Test
    void burstAfterBurstEveryEchoComesBackWhole() throws Exception {
        tomcat.assertBurstsEchoedThroughUpgrade("/uds/raw-echo", 30);
    }

    /** Killed with SIGKILL between requests: the next GET (on a pooled connection to a dead socket) reaches the successor. */
    @Test
    void aGetAfterTheProcessWasKilledIsRetriedOnItsSuccessor() throws Exception {
        tomcat.nodeApp("killed", "transport=\"unix\" rapidFailsPerMinute=\"100\"", Map.of());
        Map<String, Object> before = env("killed");
        for (int round = 0; round < 3; round++) {
            long pid = ((Number) before.get("pid")).longValue();
            Path socket = Path.of((String) before.get("PORTICO_SOCKET"));
            ProcessHandle process = ProcessHandle.of(pid).orElseThrow();
            process.destroyForcibly();
            process.onExit().get(10, TimeUnit.SECONDS);
            Map<String, Object> after = env("killed");
            assertNotEquals(pid, ((Number) after.get("pid")).longValue());
            Poll.until(Duration.ofSeconds(10), "the dead process's socket removed",
                    () -> !Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
            before = after;
        }
    }

    @Test
    void readinessAndHealthChecksGoOverTheSocket() throws Exception {
        tomcat.nodeApp("probed", "transport=\"unix\" readinessPath=\"/healthz\" healthCheckInterval=\"1\"",
                Map.of("BACKEND_READY_AFTER_MS", "300"));
        long pid = ((Number) env("probed").get("pid")).longValue();
        assertEquals(200, tomcat.get("/probed/sick").statusCode());
        // three failed checks a second apart take it out and start another
        Poll.until(Duration.ofSeconds(20), "sick process replaced", () -> ProcessHandle.of(pid).isEmpty());
        assertNotEquals(pid, ((Number) env("probed").get("pid")).longValue());
    }

    @Test
    void removingTheAppSendsTheShutdownMessageOverTheSocketAndRemovesIt() throws Exception {
        Path record = Files.createTempFile("portico-uds-record", ".jsonl");
        Path dir = tomcat.nodeApp("removed", "transport=\"unix\"", Map.of("BACKEND_RECORD_FILE", record.toString()));
        Map<String, Object> env = env("removed");
        long pid = ((Number) env.get("pid")).longValue();
        Path socket = Path.of((String) env.get("PORTICO_SOCKET"));
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        Poll.until(Duration.ofSeconds(10), "process of removed app gone", () -> ProcessHandle.of(pid).isEmpty());
        Poll.until(Duration.ofSeconds(5), "socket removed", () -> !Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.readString(record).contains("/removed/.portico/shutdown"),
                "the shutdown message reached the backend: " + Files.readString(record));
        Files.delete(record);
    }

    @Test
    void anUnknownTransportFailsOnlyThatAppNamingFileAttributeAndValue() {
        tomcat.writeApp("badtransport", "<portico processPath=\"node\" transport=\"pipe\"/>");
        tomcat.assertConfigurationError("badtransport", "portico.xml", "transport", "pipe", "tcp or unix");
        assertEquals(200, tomcat.get("/uds/env").statusCode(), "other apps keep serving");
    }
}
