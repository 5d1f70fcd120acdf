package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import dev.portico.testsupport.HttpTestClient;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;
import dev.portico.testsupport.TextWebSocket;

/**
 * In-process hosting in the real Tomcat distribution: the sample WAR installed twice into
 * {@code CATALINA_BASE/apps} of one Tomcat — {@code /inproc} with no portico.xml (in-process) and
 * {@code /outproc} with {@code hostingModel="outOfProcess"} (a child JVM under the WAR runner, on
 * the distribution's own lib/) — plus a WAR whose listener cannot be loaded. JSP comes from the
 * distribution's Jasper and conf/web.xml, WebSocket from its tomcat-websocket (when the sample has
 * its {@code /ws/echo} endpoint).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InProcessHostingIT {

    private static final Duration CHILD_JVM_START = Duration.ofSeconds(90);
    private static final String OFFLINE_PAGE = "<html><body><h1>inproc is being redeployed</h1></body></html>\n";

    /**
     * The log records that the WAR with the missing listener provokes (Tomcat's own three SEVERE lines of a
     * Context whose listener fails: the only such Context here), and only those.
     */
    private static final String[] BROKEN_WAR_RECORDS = {"NoSuchListener", "Context \\[/broken[#\\]]",
        "Skipped installing application listeners due to previous error", "One or more listeners failed to start"};

    private static Path sample;
    private static TomcatDistribution tomcat;
    private static HttpTestClient http;
    private static long childPid = -1;

    @BeforeAll
    static void startTomcatWithTheSampleInBothModels() {
        sample = E2eSettings.sampleWar();
        tomcat = TomcatDistribution.named("inprocess").create();
        tomcat.installApp("inproc", sample);
        tomcat.installApp("outproc", sample,
                PorticoXml.warRunner(CHILD_JVM_START).attribute("shutdownTimeLimit", "10").asWarFile());
        // a WAR that cannot start: its listener class does not exist
        tomcat.writeApp("broken", AppFile.of("WEB-INF/web.xml", """
                <?xml version="1.0" encoding="UTF-8"?>
                <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.1">
                  <listener>
                    <listener-class>dev.portico.e2e.NoSuchListener</listener-class>
                  </listener>
                </web-app>
                """));
        tomcat.start();
        http = tomcat.http();
    }

    @AfterAll
    static void stopTomcat() {
        // close() fails if any process of Tomcat (the WAR runner's JVM) is left; provoked in the log:
        // the WAR "broken" whose listener class does not exist fails to start (500.30)
        TomcatDistribution.closeAndAssertCleanLog(tomcat, BROKEN_WAR_RECORDS);
        if (childPid > 0) {
            assertFalse(ProcessHandle.of(childPid).map(ProcessHandle::isAlive).orElse(false),
                    "the out-of-process app's JVM " + childPid + " is gone with Tomcat");
        }
    }

    @Test
    @Order(1)
    void inProcessAppRunsInTheTomcatJvm() {
        JsonNode info = http.getJson("/inproc/info");
        assertEquals("inProcess", info.path("hostingModel").asText(), info.toString());
        assertEquals(tomcat.tomcatPid(), info.path("pid").asLong(), "the pid of the Tomcat JVM itself");
        assertEquals("/inproc/info", info.path("requestURI").asText());
        assertSeenAsTheClientMadeIt("/inproc", info);
    }

    /** The app saw the request as the client made it: its context path, the client's address, the front's port. */
    private static void assertSeenAsTheClientMadeIt(String app, JsonNode info) {
        assertEquals(app, info.path("contextPath").asText(), info.toString());
        assertEquals("127.0.0.1", info.path("remoteAddr").asText(), info.toString());
        assertEquals(tomcat.httpPort(), info.path("serverPort").asInt(), info.toString());
    }

    @Test
    @Order(2)
    void outOfProcessAppRunsInAChildJvm() {
        HttpResponse<String> response = http.send(http.request("/outproc/info")
                .timeout(CHILD_JVM_START.plusSeconds(10)).build());
        assertEquals(200, response.statusCode(), response.body() + "\n" + tomcat.logTail());
        JsonNode info = Json.tree(response.body());
        assertEquals("outOfProcess", info.path("hostingModel").asText(), info.toString());
        childPid = info.path("pid").asLong();
        assertNotEquals(tomcat.tomcatPid(), childPid, "another JVM");
        assertEquals(Optional.of(tomcat.tomcatPid()),
                ProcessHandle.of(childPid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid),
                "the WAR runner's JVM is a child of Tomcat");
        // the request as the client made it, in the other model too
        assertSeenAsTheClientMadeIt("/outproc", info);
    }

    @Test
    @Order(3)
    void jspIsCompiledByTheDistributionsJasper() {
        HttpResponse<String> response = http.get("/inproc/hello.jsp");
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.body().contains("Hello from JSP"), response.body());
        assertTrue(response.body().contains("contextPath=/inproc"), response.body());
    }

    @Test
    @Order(4)
    void sessionCountsWithTheCookie() {
        HttpResponse<String> first = http.get("/inproc/session");
        assertEquals(200, first.statusCode(), first.body());
        String setCookie = first.headers().firstValue("Set-Cookie").orElseThrow(
                () -> new AssertionError("no Set-Cookie: " + first.headers().map()));
        assertTrue(setCookie.contains("Path=/inproc"), setCookie);
        String cookie = setCookie.split(";", 2)[0];
        JsonNode one = Json.tree(first.body());
        JsonNode two = http.getJson("/inproc/session", "Cookie", cookie);
        JsonNode three = http.getJson("/inproc/session", "Cookie", cookie);
        assertEquals(1, one.path("count").asInt());
        assertEquals(2, two.path("count").asInt());
        assertEquals(3, three.path("count").asInt());
        assertEquals(one.path("sessionId").asText(), three.path("sessionId").asText());
        assertEquals(1, http.getJson("/inproc/session").path("count").asInt(), "no cookie: a new session");
    }

    @Test
    @Order(5)
    void aWarThatFailsToStartAnswers50030AndTheRestKeepsServing() {
        HttpResponse<String> broken = http.get("/broken/");
        assertEquals(500, broken.statusCode(), broken.body());
        assertTrue(broken.body().contains("500.30"), broken.body());
        // it says why: the class that could not be loaded
        assertTrue(broken.body().contains("dev.portico.e2e.NoSuchListener"), broken.body());
        // still failed on the next request (no restart loop), and logged
        assertEquals(500, http.get("/broken/anything").statusCode());
        Poll.until(Duration.ofSeconds(10), "the start failure of 'broken' in Tomcat's log",
                () -> tomcat.log().contains("in-process app [broken]") && tomcat.log().contains("failed to start"));
        // Tomcat, the other hosted apps and Tomcat's own webapps are unaffected
        assertTrue(tomcat.isRunning());
        assertEquals("inProcess", http.getJson("/inproc/info").path("hostingModel").asText());
        HttpResponse<String> outproc = http.send(http.request("/outproc/info")
                .timeout(CHILD_JVM_START.plusSeconds(10)).build());
        assertEquals(200, outproc.statusCode(), outproc.body());
        assertEquals("outOfProcess", Json.tree(outproc.body()).path("hostingModel").asText());
        HttpResponse<String> root = http.get("/index.html");
        assertEquals(200, root.statusCode());
        assertTrue(root.body().contains("plain tomcat root"), root.body());
    }

    @Test
    @Order(6)
    void appOfflineAnswers503WithTheFileUntilItIsRemoved() {
        assertEquals(200, http.get("/inproc/info").statusCode());
        tomcat.writeApp("inproc", AppFile.of("app_offline.htm", OFFLINE_PAGE));
        HttpResponse<String> offline = Poll.until(Duration.ofSeconds(15), "/inproc offline (503)",
                () -> http.get("/inproc/info"), response -> response.statusCode() == 503);
        assertEquals(OFFLINE_PAGE, offline.body());
        assertTrue(offline.headers().firstValue("Content-Type").orElse("").startsWith("text/html"),
                offline.headers().map().toString());
        assertEquals(503, http.get("/inproc/hello.jsp").statusCode(), "every request of the app");
        // the other apps are not affected
        assertEquals(200, http.get("/outproc/info").statusCode());

        tomcat.deleteAppFile("inproc", "app_offline.htm");
        HttpResponse<String> back = Poll.until(Duration.ofSeconds(30), "/inproc back (200)",
                () -> http.get("/inproc/info"), response -> response.statusCode() == 200);
        JsonNode info = Json.tree(back.body());
        assertEquals("inProcess", info.path("hostingModel").asText());
        assertEquals(tomcat.tomcatPid(), info.path("pid").asLong());
        // a new start of the app: sessions of the previous one are gone
        assertEquals(1, http.getJson("/inproc/session").path("count").asInt());
        HttpResponse<String> jsp = http.get("/inproc/hello.jsp");
        assertEquals(200, jsp.statusCode(), jsp.body());
    }

    @Test
    @Order(5)
    void webSocketEndpointOfTheInProcessApp() throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(sample.resolve("WEB-INF/classes/dev/portico/sample/EchoEndpoint.class")),
                "this sample WAR has no WebSocket endpoint");
        assertEquals("echo: hello in-process", TextWebSocket.roundTrip(http.client(),
                URI.create("ws://127.0.0.1:" + tomcat.httpPort() + "/inproc/ws/echo"), "hello in-process",
                Duration.ofSeconds(30), Duration.ofSeconds(30)));
    }
}
