package dev.portico.jmx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.rmi.server.RMIServerSocketFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXConnectorServerFactory;
import javax.management.remote.JMXServiceURL;
import javax.management.remote.rmi.RMIConnectorServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;

/**
 * The PorticoApp MBeans seen and driven from a JMX client over a real RMI connector on a
 * loopback port: attributes from the typed status, each operation's effect on the hosted app,
 * registration with the app and removal with it.
 */
class AppMBeansTest {

    private static JMXConnectorServer connectorServer;
    private static JMXConnector connector;
    private static MBeanServerConnection jmx;

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> valve.setShutdownTimeLimit(2)).withStatusPage();

    @BeforeAll
    static void start() throws Exception {
        Map<String, Object> environment = new HashMap<>();
        environment.put(RMIConnectorServer.RMI_SERVER_SOCKET_FACTORY_ATTRIBUTE, new LoopbackSockets());
        // no RMI registry: the address carries the server's stub
        connectorServer = JMXConnectorServerFactory.newJMXConnectorServer(new JMXServiceURL("service:jmx:rmi://127.0.0.1"),
                environment, ManagementFactory.getPlatformMBeanServer());
        connectorServer.start();
        connector = JMXConnectorFactory.connect(connectorServer.getAddress());
        jmx = connector.getMBeanServerConnection();
    }

    @AfterAll
    static void stop() throws Exception {
        if (connector != null) {
            connector.close();
        }
        if (connectorServer != null) {
            connectorServer.stop();
        }
    }

    /** RMI's sockets on 127.0.0.1 only. */
    private static final class LoopbackSockets implements RMIServerSocketFactory, java.io.Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public ServerSocket createServerSocket(int port) throws IOException {
            return new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof LoopbackSockets;
        }

        @Override
        public int hashCode() {
            return 1;
        }
    }

    private static ObjectName app(String path) {
        try {
            return new ObjectName("Tomcat:type=PorticoApp,host=localhost,name=" + path);
        } catch (javax.management.MalformedObjectNameException e) {
            throw new AssertionError(e);
        }
    }

    private static Object attribute(ObjectName name, String attribute) {
        try {
            return jmx.getAttribute(name, attribute);
        } catch (Exception e) {
            throw new AssertionError(name + " " + attribute, e);
        }
    }

    private static Object invoke(ObjectName name, String operation) throws Exception {
        return jmx.invoke(name, operation, new Object[0], new String[0]);
    }

    private static long pidServing(String path) {
        return Long.parseLong(Json.field(tomcat.get(path + "/env").body(), "pid"));
    }

    @Test
    void anOutOfProcessAppIsStartedStoppedAndRecycledOverJmx() throws Exception {
        tomcat.nodeApp("shop", "", Map.of());
        ObjectName shop = app("/shop");
        Poll.until(Duration.ofSeconds(5), "the MBean of /shop", () -> isRegistered(shop));
        assertEquals("shop", attribute(shop, "name"));
        assertEquals("/shop", attribute(shop, "path"));
        assertEquals("outOfProcess", attribute(shop, "model"));
        assertEquals("idle", attribute(shop, "state"));
        assertEquals("", attribute(shop, "pids"));
        assertEquals(-1L, attribute(shop, "uptime"));

        assertEquals("START of app [shop] requested: carried out within the valve's scanInterval", invoke(shop, "start"));
        Poll.until(Duration.ofSeconds(20), "started over JMX", () -> "running".equals(attribute(shop, "state")));
        long[] pids = {Long.parseLong((String) attribute(shop, "pids"))};
        assertTrue(Integer.parseInt((String) attribute(shop, "ports")) > 0);
        assertEquals(1, attribute(shop, "starts"));
        assertTrue((Long) attribute(shop, "uptime") >= 0);
        // started before any request: the first request finds that very process
        assertEquals(0L, attribute(shop, "requests"));
        assertEquals(pids[0], pidServing("/shop"));
        assertEquals(1L, attribute(shop, "requests"));
        assertEquals(0, attribute(shop, "inFlight"));

        invoke(shop, "stop");
        Poll.until(Duration.ofSeconds(10), "stopped over JMX",
                () -> "".equals(attribute(shop, "pids")) && "idle".equals(attribute(shop, "state")));
        assertFalse(ProcessHandle.of(pids[0]).map(ProcessHandle::isAlive).orElse(false), "the old process is gone");
        long afterStop = pidServing("/shop");
        assertNotEquals(pids[0], afterStop, "the next request started a new process");

        invoke(shop, "recycle");
        Poll.until(Duration.ofSeconds(10), "the recycled generation's process gone",
                () -> !ProcessHandle.of(afterStop).map(ProcessHandle::isAlive).orElse(false));
        // the app was serving, so the recycle started the new generation before the old one stopped
        assertEquals("running", attribute(shop, "state"));
        assertEquals(1, attribute(shop, "starts"), "a new generation counts its own starts");
        assertNotEquals(afterStop, pidServing("/shop"));
        assertEquals(3L, attribute(shop, "requests"), "requests are counted across recycles");
    }

    @Test
    void takenOfflineOverJmxAnAppAnswers503UntilBroughtBackAndTheFileStillWins() throws Exception {
        Path dir = tomcat.nodeApp("held", "", Map.of());
        ObjectName held = app("/held");
        Poll.until(Duration.ofSeconds(5), "the MBean of /held", () -> isRegistered(held));
        long pid = pidServing("/held");

        invoke(held, "takeOffline");
        Poll.until(Duration.ofSeconds(5), "offline", () -> tomcat.get("/held/env").statusCode() == 503);
        var page = tomcat.get("/held/env");
        assertTrue(page.body().contains("taken offline for maintenance"), page.body());
        assertEquals("offline", attribute(held, "state"));
        assertEquals("operator", attribute(held, "offlineReason"));
        assertEquals(Boolean.TRUE, attribute(held, "heldOffline"));
        Poll.until(Duration.ofSeconds(10), "the process stopped while offline",
                () -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        assertEquals("START of app [held] refused: it is offline (operator); bring it online first", invoke(held, "start"));

        Files.writeString(dir.resolve("app_offline.htm"), "<h1>back at noon</h1>");
        Poll.until(Duration.ofSeconds(5), "the file's page",
                () -> "app_offline.htm".equals(attribute(held, "offlineReason")));
        invoke(held, "bringOnline");
        Poll.until(Duration.ofSeconds(5), "released", () -> Boolean.FALSE.equals(attribute(held, "heldOffline")));
        assertEquals("<h1>back at noon</h1>", tomcat.get("/held/env").body(), "app_offline.htm keeps it offline");
        assertEquals(503, tomcat.get("/held/env").statusCode());

        Files.delete(dir.resolve("app_offline.htm"));
        Poll.until(Duration.ofSeconds(20), "online again", () -> tomcat.get("/held/env").statusCode() == 200);
        assertNull(attribute(held, "offlineReason"));
    }

    @Test
    void anInProcessAppHasItsMBeanTooAndItGoesWithTheApp() throws Exception {
        Path war = Files.createDirectories(tomcat.apps().resolve(".staging-war").resolve("WEB-INF"));
        Files.writeString(war.resolve("web.xml"), "<web-app xmlns=\"https://jakarta.ee/xml/ns/jakartaee\" version=\"6.1\"/>");
        Files.writeString(war.getParent().resolve("index.html"), "in-process page");
        Files.move(war.getParent(), tomcat.apps().resolve("pages"));
        ObjectName pages = app("/pages");
        Poll.until(Duration.ofSeconds(5), "the MBean of /pages", () -> isRegistered(pages));
        assertEquals("inProcess", attribute(pages, "model"));
        assertEquals("idle", attribute(pages, "state"));
        assertEquals(-1L, attribute(pages, "uptime"));
        invoke(pages, "start");
        Poll.until(Duration.ofSeconds(10), "started over JMX", () -> "running".equals(attribute(pages, "state")));
        assertEquals("", attribute(pages, "pids"));
        assertTrue((Long) attribute(pages, "uptime") >= 0, "an in-process app is up since its Context started");
        assertEquals("in-process page", tomcat.get("/pages/index.html").body());
        assertEquals(1L, attribute(pages, "requests"));

        // out of the catalog's sight (it ignores dot names) in one step
        Files.move(tomcat.apps().resolve("pages"), tomcat.apps().resolve(".pages-removed"));
        Poll.until(Duration.ofSeconds(5), "the MBean removed with the app", () -> !isRegistered(pages));
    }

    @Test
    void theValveDescribesItselfThroughItsDescriptor() throws Exception {
        Set<ObjectName> valves = jmx.queryNames(new ObjectName("Tomcat:type=Valve,name=PorticoValve,*"), null);
        assertEquals(1, valves.size(), valves.toString());
        ObjectName valve = valves.iterator().next();
        assertEquals(HostingTomcat.STATUS_PATH, jmx.getAttribute(valve, "statusPath"));
        assertEquals("dev.portico.PorticoValve", jmx.getAttribute(valve, "className"));
        assertEquals("STARTED", jmx.getAttribute(valve, "stateName"));
        assertEquals("Portico: hosts apps in-process and out-of-process behind the Host",
                jmx.getMBeanInfo(valve).getDescription());
        // every attribute of the valve (a getter with a setter) is in the descriptor, which otherwise hides it
        java.util.Set<String> described = java.util.Arrays.stream(jmx.getMBeanInfo(valve).getAttributes())
                .map(javax.management.MBeanAttributeInfo::getName).collect(java.util.stream.Collectors.toSet());
        for (java.lang.reflect.Method getter : dev.portico.PorticoValve.class.getDeclaredMethods()) {
            String name = getter.getName();
            if (java.lang.reflect.Modifier.isPublic(getter.getModifiers()) && name.startsWith("get") && getter.getParameterCount() == 0
                    && java.util.Arrays.stream(dev.portico.PorticoValve.class.getMethods()).anyMatch(m -> m.getName().equals("s" + name.substring(1)))) {
                String attribute = Character.toLowerCase(name.charAt(3)) + name.substring(4);
                assertTrue(described.contains(attribute), attribute + " is missing from dev/portico/mbeans-descriptors.xml");
            }
        }
        tomcat.nodeApp("described", "", Map.of());
        Poll.until(Duration.ofSeconds(5), "the MBean of /described", () -> isRegistered(app("/described")));
        assertEquals("An app hosted by Portico, in-process or out-of-process",
                jmx.getMBeanInfo(app("/described")).getDescription());
    }

    private static boolean isRegistered(ObjectName name) {
        try {
            return jmx.isRegistered(name);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** One PorticoProcess MBean per ready process, from ready to exit; a killed one goes, its replacement comes. */
    @Test
    void eachReadyProcessHasAnMBeanUntilItExits() throws Exception {
        tomcat.nodeApp("duo", "processesPerApplication=\"2\" preloadEnabled=\"true\"", Map.of());
        ObjectName pattern = new ObjectName("Tomcat:type=PorticoProcess,host=localhost,app=/duo,*");
        Poll.until(Duration.ofSeconds(20), "two process MBeans", () -> names(pattern).size() == 2);
        java.util.Set<Long> pids = new java.util.HashSet<>();
        for (ObjectName name : names(pattern)) {
            long pid = (Long) attribute(name, "pid");
            pids.add(pid);
            assertEquals(String.valueOf(pid), name.getKeyProperty("pid"));
            assertEquals("ready", attribute(name, "state"));
            assertTrue((Integer) attribute(name, "port") > 0);
            assertTrue((Long) attribute(name, "uptime") >= 0);
        }
        long victim = pids.iterator().next();
        ProcessHandle.of(victim).orElseThrow().destroyForcibly();
        Poll.until(Duration.ofSeconds(20), "the killed process's MBean gone, its replacement's there: " + names(pattern),
                () -> names(pattern).size() == 2 && names(pattern).stream()
                .noneMatch(n -> n.getKeyProperty("pid").equals(String.valueOf(victim))));
    }

    private static java.util.Set<ObjectName> names(ObjectName pattern) {
        try {
            return jmx.queryNames(pattern, null);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
