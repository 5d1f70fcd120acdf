package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;

import dev.portico.testsupport.TestBodies;

/**
 * {@code transport="unix"} in the real Tomcat distribution: the Node backend listens on the
 * socket Portico gives it, concurrent keep-alive clients POST bodies of every size class and GET
 * through it (every answer checked byte for byte), WebSockets are tunnelled over it, and once
 * Tomcat has stopped no socket file, process or unprovoked SEVERE line is left.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UnixSocketHostingIT {

    private static final Duration LOAD = Duration.ofSeconds(8);

    private static TomcatDistribution tomcat;
    private static ChaosClients clients;

    @BeforeAll
    static void startTomcat() {
        tomcat = TomcatDistribution.named("unix").create();
        tomcat.writeApp("uds", PorticoXml.nodeBackend().attribute("transport", "unix").asFile());
        tomcat.start();
        clients = new ChaosClients(tomcat.httpPort());
    }

    @AfterAll
    static void stopTomcat() throws IOException {
        ChaosClients.closeAll(clients);
        if (tomcat != null) {
            tomcat.close();
            try (Stream<Path> left = socketFiles()) {
                assertEquals(List.of(), left.toList(), "socket files left after Tomcat stopped");
            }
            tomcat.assertCleanLog();
        }
    }

    private static Stream<Path> socketFiles() throws IOException {
        Path sockets = tomcat.catalinaBase().resolve("work/Portico/localhost/sockets");
        return Files.isDirectory(sockets) ? Files.list(sockets).filter(p -> p.toString().endsWith(".sock")) : Stream.empty();
    }

    @Test
    @Order(1)
    void theBackendListensOnAPrivateSocketInsteadOfAPort() throws IOException {
        JsonNode env = tomcat.http().getJson("/uds/env?names=PORTICO_SOCKET");
        String socket = env.path("PORTICO_SOCKET").asText();
        assertTrue(socket.endsWith(".sock"), "PORTICO_SOCKET: " + env);
        assertTrue(env.path("PORTICO_PORT").isNull() || env.path("PORTICO_PORT").isMissingNode(), "no port: " + env);
        Path file = Path.of(socket);
        assertTrue(Files.exists(file), socket);
        Set<PosixFilePermission> directory = Files.getPosixFilePermissions(file.getParent());
        assertEquals("rwx------", PosixFilePermissions.toString(directory), "the socket's directory is the Tomcat user's alone");
    }

    @Test
    @Order(2)
    void concurrentKeepAliveBodiesAndGetsArriveWhole() {
        LossTally tally = new LossTally("unix socket: 4 keep-alive clients, POST 0 B..300 KB and GET");
        long end = System.nanoTime() + LOAD.toNanos();
        List<Callable<Void>> tasks = new ArrayList<>(clients.keepAliveTasks(4, 31, (id, keepAlive, random) -> {
            for (int i = 0; i < 2_000 && System.nanoTime() < end; i++) {
                String tag = "u" + id + "-" + i;
                if (i % 3 == 2) {
                    clients.mirror(keepAlive, tally, "uds", tag, null, ChaosClients.Framing.CONTENT_LENGTH,
                            false, false);
                } else {
                    int size = random.nextInt(10) == 0 ? random.nextInt(300_000) : random.nextInt(20_000);
                    clients.mirror(keepAlive, tally, "uds", tag, TestBodies.random(size, random.nextLong()),
                            i % 2 == 0 ? ChaosClients.Framing.CHUNKED : ChaosClients.Framing.CONTENT_LENGTH,
                            i % 5 == 0, false);
                }
            }
        }));
        clients.runConcurrently(LOAD.plusSeconds(60), tasks);
        tally.print();
        tally.assertNothingLost();
        assertTrue(tally.sentCount() > 100, "enough requests were made: " + tally.sentCount());
    }

    @Test
    @Order(3)
    void webSocketsAreTunnelledOverTheSocket() {
        LossTally sessions = new LossTally("unix socket: websockets, closed and dropped");
        for (int i = 0; i < 20; i++) {
            boolean drop = i % 3 == 0;
            clients.webSocket(sessions, "uds", "w" + i, 1 + i % 5, drop, drop && i % 2 == 0);
        }
        sessions.print();
        sessions.assertNothingLost();
    }

    @Test
    @Order(4)
    void theSocketFileExistsWhileTheProcessRuns() throws IOException {
        try (Stream<Path> files = socketFiles()) {
            assertFalse(files.toList().isEmpty(), "the running process's socket is in the work directory");
        }
    }
}
