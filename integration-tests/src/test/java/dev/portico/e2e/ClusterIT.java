package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.portico.testsupport.FreePort;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;

/**
 * Two Tomcat distributions on loopback in one cluster (SimpleTcpCluster on the Engine, static
 * membership, DeltaManager): a {@code <distributable/>} WAR's session follows the user from one
 * node to the other, the same when Tomcat deploys the WAR from {@code webapps/} and when Portico
 * hosts it in-process — also after the in-process app was recycled on one node (a new generation
 * of its Context, which must join the cluster under the same manager name).
 */
class ClusterIT {

    private static final Duration MEMBERSHIP = Duration.ofSeconds(30);
    private static final Duration REPLICATION = Duration.ofSeconds(15);
    private static final String DISTRIBUTABLE_WEB_XML = """
            <?xml version="1.0" encoding="UTF-8"?>
            <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.1">
              <distributable/>
            </web-app>
            """;

    private static TomcatDistribution first;
    private static TomcatDistribution second;

    @BeforeAll
    static void startTwoNodes() {
        int firstReceiver = FreePort.pick();
        int secondReceiver = FreePort.pick();
        first = node("cluster-a", firstReceiver, 1, secondReceiver, 2);
        second = node("cluster-b", secondReceiver, 2, firstReceiver, 1);
        first.start();
        second.start();
        Poll.until(MEMBERSHIP, "the two nodes see each other",
                () -> first.log().contains("Replication member added") && second.log().contains("Replication member added"));
    }

    private static TomcatDistribution node(String name, int receiver, int id, int otherReceiver, int otherId) {
        TomcatDistribution node = TomcatDistribution.named(name).inEngine("""
                      <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster" channelSendOptions="6">
                        <Manager className="org.apache.catalina.ha.session.DeltaManager" expireSessionsOnShutdown="false"
                                 notifyListenersOnReplication="true" stateTransferTimeout="10"/>
                        <Channel className="org.apache.catalina.tribes.group.GroupChannel">
                          <Membership className="org.apache.catalina.tribes.membership.StaticMembershipService">
                            <LocalMember className="org.apache.catalina.tribes.membership.StaticMember" uniqueId="%s"/>
                            <Member className="org.apache.catalina.tribes.membership.StaticMember" host="127.0.0.1"
                                    port="%d" uniqueId="%s"/>
                          </Membership>
                          <Receiver className="org.apache.catalina.tribes.transport.nio.NioReceiver" address="127.0.0.1"
                                    port="%d" autoBind="0" selectorTimeout="100" maxThreads="6"/>
                          <Sender className="org.apache.catalina.tribes.transport.ReplicationTransmitter">
                            <Transport className="org.apache.catalina.tribes.transport.nio.PooledParallelSender"/>
                          </Sender>
                          <Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpPingInterceptor" staticOnly="true"/>
                          <Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector"/>
                          <Interceptor className="org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor"/>
                        </Channel>
                      </Cluster>""".formatted(uniqueId(id), otherReceiver, uniqueId(otherId), receiver)).create();
        Path sample = E2eSettings.sampleWar();
        AppFile webXml = AppFile.of("WEB-INF/web.xml", DISTRIBUTABLE_WEB_XML);
        node.installWebapp("shared", sample, webXml);
        node.installApp("sharedin", sample);
        node.writeApp("sharedin", webXml);
        return node;
    }

    private static String uniqueId(int id) {
        return "{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0," + id + "}";
    }

    @AfterAll
    static void stopNodes() {
        for (TomcatDistribution node : new TomcatDistribution[] {second, first}) {
            if (node != null) {
                node.close();
            }
        }
        for (TomcatDistribution node : new TomcatDistribution[] {first, second}) {
            if (node != null) {
                node.assertCleanLog();
            }
        }
    }

    @Test
    void aSessionFollowsTheUserFromNodeToNodeInWebappsAndInProcess() {
        for (String app : List.of("/shared", "/sharedin")) {
            HttpResponse<String> created = first.http().get(app + "/session");
            assertEquals(200, created.statusCode(), app + ": " + created.body());
            String sessionId = Json.tree(created.body()).path("sessionId").asText();
            assertNotNull(sessionId);
            assertEquals(1, count(created), app);
            awaitCount(second, app, sessionId, 2);
            awaitCount(first, app, sessionId, 3);
        }
    }

    /**
     * A recycle while a request is in flight: the new generation starts (and registers its manager
     * with the cluster) while the old one drains; when the old one is removed it takes the
     * registration of their common name with it, which the new one must get back — else the
     * node neither sends nor receives that app's session changes any more.
     */
    @Test
    void aRecycledInProcessAppStaysInTheClusterWhenItsGenerationsOverlap() throws Exception {
        String app = "/sharedin";
        HttpResponse<String> created = first.http().get(app + "/session");
        String sessionId = Json.tree(created.body()).path("sessionId").asText();
        awaitCount(second, app, sessionId, 2);

        long registrations = lines(first, "Register manager [localhost#/sharedin]");
        long stops = lines(first, "Manager [localhost#/sharedin] expiring sessions upon shutdown");
        CompletableFuture<HttpResponse<String>> slow = CompletableFuture.supplyAsync(
                () -> first.http().get(app + "/slow?ms=3000"));
        Poll.sleep(Duration.ofMillis(700)); // let the slow request enter the old generation
        Path webXml = first.appDir("sharedin").resolve("WEB-INF/web.xml");
        Files.setLastModifiedTime(webXml, FileTime.fromMillis(Files.getLastModifiedTime(webXml).toMillis() + 5_000));
        Poll.until(REPLICATION, "the recycle", () -> lines(first, "Portico app [sharedin] changed: recycling it") >= 1);
        awaitCount(first, app, sessionId, 3); // the new generation got the session from the other node
        assertEquals(registrations + 1, lines(first, "Register manager [localhost#/sharedin]"), "a new generation");
        assertEquals(stops, lines(first, "Manager [localhost#/sharedin] expiring sessions upon shutdown"),
                "the old generation still drains the slow request: the two overlap");
        assertEquals(200, slow.get(30, TimeUnit.SECONDS).statusCode());
        Poll.until(REPLICATION, "the old generation stopped",
                () -> lines(first, "Manager [localhost#/sharedin] expiring sessions upon shutdown") > stops);

        awaitCount(first, app, sessionId, 4);  // after the old generation left
        awaitCount(second, app, sessionId, 5); // the first node still sends
        awaitCount(first, app, sessionId, 6);  // and still receives
    }

    /** Lines of the node's console log (each record once) that contain {@code text}. */
    private static long lines(TomcatDistribution node, String text) {
        try {
            return Files.readAllLines(node.consoleLog()).stream().filter(line -> line.contains(text)).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Waits (bounded) until {@code node} holds the session with the counter at {@code expected - 1},
     * asking without counting ({@code ?peek}), since replication is asynchronous; then counts once
     * there and checks the answer is {@code expected}.
     */
    private static void awaitCount(TomcatDistribution node, String app, String sessionId, int expected) {
        String cookie = "JSESSIONID=" + sessionId;
        long deadline = System.nanoTime() + REPLICATION.toNanos();
        while (true) {
            JsonNode peeked = node.http().getJson(app + "/session?peek", "Cookie", cookie);
            if (sessionId.equals(peeked.path("sessionId").asText()) && peeked.path("count").asInt() == expected - 1) {
                break;
            }
            if (System.nanoTime() > deadline) {
                fail(app + ": session " + sessionId + " with count " + (expected - 1) + " never reached " + node
                        + " within " + REPLICATION.toSeconds() + " s (it has " + peeked + "). Log tail:\n" + node.logTail());
            }
            Poll.sleep(Duration.ofMillis(100));
        }
        HttpResponse<String> response = node.http().get(app + "/session", "Cookie", cookie);
        assertEquals(200, response.statusCode(), app + ": " + response.body());
        assertEquals(expected, count(response), app + " on " + node);
    }

    private static int count(HttpResponse<String> response) {
        return Json.tree(response.body()).path("count").asInt();
    }
}
