package dev.portico.outofprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;

/**
 * The sample WAR out-of-process with transport="unix": the WAR runner's embedded Tomcat listens
 * with its NIO connector's unixDomainSocketPath on the socket Portico named, and the front
 * forwards requests and WebSockets over it.
 */
class WarRunnerUnixSocketTest {

    private static Path sockets;

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(HostingTomcat.CHILD_JVM_LIMITS);

    @BeforeAll
    static void start() throws Exception {
        sockets = tomcat.apps().getParent().resolve("work/Portico/localhost/sockets");
        tomcat.deploySample("sample", "<portico hostingModel=\"outOfProcess\" transport=\"unix\""
                + " jvmOptions=\"-Xmx128m -XX:TieredStopAtLevel=1\"/>\n");
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            tomcat.stop();
            try (Stream<Path> left = Files.list(sockets)) {
                assertEquals(List.of(), left.toList(), "no socket file outlives the Tomcat that made it");
            }
        } finally {
            tomcat.close();
        }
    }

    @Test
    void theWarRunnerServesOverItsSocket() throws Exception {
        HttpResponse<String> response = tomcat.send(HttpRequest.newBuilder(tomcat.uri("/sample/info"))
                .timeout(Duration.ofSeconds(120)).build());
        assertEquals(200, response.statusCode(), response.body());
        String info = response.body();
        assertEquals("outOfProcess", Json.field(info, "hostingModel"), info);
        assertEquals("127.0.0.1", Json.field(info, "remoteAddr"), "the client's address, not the socket's: " + info);
        assertEquals("/sample/info", Json.field(info, "requestURI"), info);
        try (Stream<Path> listed = Files.list(sockets)) {
            List<Path> files = listed.toList();
            assertEquals(1, files.size(), files.toString());
            assertTrue(Files.exists(files.get(0), LinkOption.NOFOLLOW_LINKS));
            assertFalse(Files.isRegularFile(files.get(0)), "a socket, not a file: " + files.get(0));
        }
        assertEquals("echo: over the socket", tomcat.webSocketRoundTrip("/sample/ws/echo", "over the socket"));
    }
}
