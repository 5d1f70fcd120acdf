package dev.portico;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import javax.management.MBeanServer;

import org.apache.catalina.LifecycleException;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.Test;

import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;

/**
 * An app attribute set on the valve is the default of every app of the Host, here the process
 * pool's size with real Node processes; the app's own portico.xml wins; JMX shows the valve's
 * value; and valve defaults that contradict each other fail the valve's start.
 */
class ValveDefaultsTest {

    private static long processes(HostingTomcat tomcat, String path) {
        List<?> apps = (List<?>) ((Map<?, ?>) Json.parse(tomcat.get("/portico-status").body())).get("apps");
        Map<?, ?> app = apps.stream().map(a -> (Map<?, ?>) a).filter(a -> path.equals(a.get("path"))).findFirst()
                .orElseThrow();
        return ((List<?>) app.get("processes")).stream().filter(p -> "ready".equals(((Map<?, ?>) p).get("state")))
                .count();
    }

    @Test
    void thePoolSizeOnTheValveIsEveryAppsUnlessItsPorticoXmlSaysOtherwise() throws Exception {
        try (HostingTomcat tomcat = HostingTomcat.start(valve -> {
            valve.setStatusPath("/portico-status");
            valve.setShutdownTimeLimit(2);
            valve.setProperty("processesPerApplication", "2");
        })) {
            tomcat.nodeApp("pair", "", Map.of());
            tomcat.nodeApp("single", "processesPerApplication=\"1\"", Map.of());
            assertEquals(200, tomcat.get("/pair/env").statusCode());
            assertEquals(200, tomcat.get("/single/env").statusCode());
            Poll.until(Duration.ofSeconds(15), "two processes of /pair", () -> processes(tomcat, "/pair") == 2);
            assertEquals(1, processes(tomcat, "/single"));

            MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
            assertEquals(2, jmx.getAttribute(tomcat.valve().getObjectName(), "processesPerApplication"));
            assertEquals(2, jmx.getAttribute(tomcat.valve().getObjectName(), "shutdownTimeLimit"));
            assertEquals("/portico-status", jmx.getAttribute(tomcat.valve().getObjectName(), "statusPath"));
        }
    }

    @Test
    void backoffDefaultsThatContradictEachOtherFailTheValvesStart() {
        Tomcat[] started = new Tomcat[1];
        Exception failure = assertThrows(Exception.class, () -> HostingTomcat.start(valve -> {
            valve.setProperty("backoffInitialDelayMs", "5000");
            valve.setProperty("backoffMaxDelayMs", "4000");
        }, tomcat -> started[0] = tomcat).close());
        try {
            Throwable cause = failure;
            while (cause.getCause() != null && !(cause instanceof LifecycleException
                    && cause.getMessage().startsWith("Portico"))) {
                cause = cause.getCause();
            }
            assertEquals("Portico valve attribute [backoffMaxDelayMs] has invalid value [4000]: it must not be less"
                    + " than backoffInitialDelayMs (5000)", cause.getMessage());
        } finally {
            stopQuietly(started[0]);
        }
    }

    private static void stopQuietly(Tomcat tomcat) {
        if (tomcat == null) {
            return;
        }
        try {
            tomcat.stop();
            tomcat.destroy();
        } catch (LifecycleException | RuntimeException e) {
            // a server that failed to start may refuse to stop; nothing of it must outlive the test
        }
    }
}
