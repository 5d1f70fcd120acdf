package dev.portico.outofprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.HttpTestClient;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;

/**
 * The real sample WAR, hosted out-of-process through Portico's WAR runner: a child JVM running
 * an embedded Tomcat on the classpath that {@code WarRunnerClasspath} computes from this test's
 * own classpath. One app (one child JVM) serves every test; the last test stops Tomcat.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WarRunnerHostingTest {

    private static final String MARKER = "-Dportico.test.marker=war-runner-hosting";

    private static long childPid = -1;

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(HostingTomcat.CHILD_JVM_LIMITS);

    @BeforeAll
    static void start() throws Exception {
        // staged under a dot name and moved into place in one step (see HostingTomcat.deployWar)
        tomcat.deploySample("sample",
                "<portico hostingModel=\"outOfProcess\" jvmOptions=\"-Xmx128m -XX:TieredStopAtLevel=1 " + MARKER
                        + "\" stdoutLogEnabled=\"true\">\n"
                        + "  <environmentVariables>\n"
                        + "    <environmentVariable name=\"PORTICO_SAMPLE_ALLOW_CRASH\" value=\"true\"/>\n"
                        + "  </environmentVariables>\n"
                        + "</portico>\n");
        assertTrue(tomcat.valve().getHostedApps().get("/sample").contains("WAR runner"),
                tomcat.valve().getHostedApps().toString());
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            tomcat.close();
        } finally {
            // never leave a child JVM behind, even when a test failed half way
            ProcessHandle.of(childPid).ifPresent(child -> {
                child.descendants().forEach(ProcessHandle::destroyForcibly);
                child.destroyForcibly();
            });
        }
    }

    @Test
    @Order(1)
    void infoShowsTheRequestAsTheClientSawItFromAChildJvm() {
        HttpResponse<String> response = tomcat.send(HttpRequest.newBuilder(
                tomcat.uri("/sample/info?env=PORTICO_SAMPLE_ALLOW_CRASH,PORTICO_TOKEN"))
                .header("X-Forwarded-For", "6.6.6.6")
                .header("X-Forwarded-Proto", "https")
                .timeout(Duration.ofSeconds(120)).build());
        assertEquals(200, response.statusCode(), response.body());
        String info = response.body();
        assertEquals("outOfProcess", Json.field(info, "hostingModel"), info);
        // what the client used, not the backend's loopback connection, nor the forged headers
        assertEquals("http", Json.field(info, "scheme"), info);
        assertEquals("127.0.0.1", Json.field(info, "remoteAddr"), info);
        assertEquals("127.0.0.1", Json.field(info, "serverName"), info);
        assertEquals(Integer.toString(tomcat.port()), Json.field(info, "serverPort"), info);
        assertEquals("/sample", Json.field(info, "contextPath"), info);
        assertEquals("/sample/info", Json.field(info, "requestURI"), info);
        assertEquals("true", Json.field(info, "PORTICO_SAMPLE_ALLOW_CRASH"), "environmentVariables reach the app");
        assertEquals(null, Json.field(info, "PORTICO_TOKEN"), "the token is never shown");
        childPid = Long.parseLong(Json.field(info, "pid"));
        assertNotEquals(ProcessHandle.current().pid(), childPid);
        ProcessHandle child = ProcessHandle.of(childPid).orElseThrow(() -> new AssertionError("child " + childPid + " alive"));
        assertEquals(Optional.of(ProcessHandle.current().pid()), child.parent().map(ProcessHandle::pid),
                "the WAR runner is a child of the Tomcat JVM");
        assertTrue(tomcat.valve().getHostedApps().get("/sample").contains("running"),
                tomcat.valve().getHostedApps().toString());
    }

    @Test
    @Order(2)
    void jvmOptionsReachTheChildJvm() {
        long pid = pid();
        List<String> arguments = List.of(ProcessHandle.of(pid).orElseThrow().info().arguments().orElseThrow(
                () -> new AssertionError("arguments of " + pid + " not readable")));
        assertTrue(arguments.contains(MARKER), arguments.toString());
        assertTrue(arguments.contains("-Xmx128m"), arguments.toString());
        assertTrue(arguments.contains("dev.portico.integration.runner.WarRunner"), arguments.toString());
        // options go to the JVM, before the main class
        assertTrue(arguments.indexOf(MARKER) < arguments.indexOf("dev.portico.integration.runner.WarRunner"),
                arguments.toString());
    }

    @Test
    @Order(3)
    void echoSeesMethodBodyAndNoToken() throws Exception {
        byte[] body = "hello from the front".getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> response = tomcat.send(HttpRequest.newBuilder(tomcat.uri("/sample/echo?a=1&b=%2F"))
                .header("X-Custom", "kept")
                .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(body)).build());
        assertEquals(200, response.statusCode(), response.body());
        String echo = response.body();
        assertEquals("PATCH", Json.field(echo, "method"));
        assertEquals("a=1&b=%2F", Json.field(echo, "queryString"));
        assertEquals(Integer.toString(body.length), Json.field(echo, "bodyLength"));
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)),
                Json.field(echo, "bodySha256"));
        assertTrue(echo.contains("\"x-custom\":[\"kept\"]") || echo.contains("\"X-Custom\":[\"kept\"]"), echo);
        assertFalse(echo.toLowerCase().contains("x-portico-token"), "the integration hides the token: " + echo);
    }

    @Test
    @Order(4)
    void jspIsCompiledAndServed() {
        HttpResponse<String> response = tomcat.get("/sample/hello.jsp");
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.body().contains("Hello from JSP"), response.body());
        assertTrue(response.body().contains("contextPath=/sample"), response.body());
    }

    @Test
    @Order(5)
    void sessionCounterFollowsTheCookie() {
        HttpTestClient browser = tomcat.http().withCookies();
        String first = body200(browser, "/sample/session");
        String second = body200(browser, "/sample/session");
        assertEquals("1", Json.field(first, "count"), first);
        assertEquals("2", Json.field(second, "count"), second);
        assertEquals(Json.field(first, "sessionId"), Json.field(second, "sessionId"));
        // without the cookie it is a new session
        assertEquals("1", Json.field(tomcat.get("/sample/session").body(), "count"));
    }

    @Test
    @Order(6)
    void stoppingTomcatLeavesNoChild() throws Exception {
        long pid = pid();
        ProcessHandle child = ProcessHandle.of(pid).orElseThrow();
        List<ProcessHandle> descendants = child.descendants().toList();
        long begin = System.nanoTime();
        tomcat.stop();
        long stopMillis = (System.nanoTime() - begin) / 1_000_000;
        // the valve waits for its children; allow a moment for the kernel to reap
        Poll.until(Duration.ofSeconds(5), "child JVM " + pid + " gone after Tomcat stopped (stop took " + stopMillis + " ms)",
                () -> !child.isAlive() && descendants.stream().noneMatch(ProcessHandle::isAlive));
        assertTrue(ProcessHandle.current().children().noneMatch(p -> p.pid() == pid));
    }

    /** The child's pid (from /info); starts it if an earlier test did not. */
    private static long pid() {
        if (childPid <= 0 || ProcessHandle.of(childPid).isEmpty()) {
            HttpResponse<String> info = tomcat.send(HttpRequest.newBuilder(tomcat.uri("/sample/info"))
                    .timeout(Duration.ofSeconds(120)).build());
            assertEquals(200, info.statusCode(), info.body());
            childPid = Long.parseLong(Json.field(info.body(), "pid"));
        }
        return childPid;
    }

    private static String body200(HttpTestClient client, String path) {
        HttpResponse<String> response = client.get(path);
        assertEquals(200, response.statusCode(), response.body());
        return response.body();
    }
}
