package dev.portico;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;

import org.apache.catalina.loader.WebappClassLoaderBase;
import org.junit.jupiter.api.Test;

import dev.portico.inprocess.testapp.TestApp;
import dev.portico.testing.CapturedLog;
import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;

/**
 * Every thread Portico starts carries Portico's own context class loader and ends with the
 * valve: after a life with both hosting models, WebSockets and recycles, stopping Tomcat leaves
 * no Portico thread behind and Tomcat finds none pinning a web application.
 */
class ThreadHygieneTest {

    private static final ClassLoader PORTICO_LOADER = PorticoValve.class.getClassLoader();

    @Test
    void noThreadOfPorticoOutlivesTheValveOrPinsAWebApplication() throws Exception {
        try (CapturedLog log = new CapturedLog();
                HostingTomcat tomcat = HostingTomcat.start(valve -> valve.setShutdownTimeLimit(2), t -> t.enableNaming())) {
            TestApp.write(tomcat.apps().resolve("inproc"), "");
            tomcat.awaitHosted("inproc");
            for (int generation = 0; generation < 4; generation++) {
                String colour = "c" + generation;
                tomcat.nodeApp("ws", "", Map.of("COLOUR", colour));
                Poll.until(Duration.ofSeconds(20), "generation " + generation + " serving",
                        () -> colour.equals(Json.field(tomcat.get("/ws/env?names=COLOUR").body(), "COLOUR")));
                assertEquals("echo " + generation, tomcat.webSocketRoundTrip("/ws/ws-echo", "echo " + generation));
                assertEquals(200, tomcat.get("/inproc/info").statusCode());
                // a thread stopping the previous generation's Context binds that Context's loader
                // while it does (Tomcat's own bindThread/unbindThread); none may keep it afterwards
                Poll.until(Duration.ofSeconds(10), "every Portico thread back on Portico's loader: " + portico().stream()
                                .filter(t -> t.getContextClassLoader() != PORTICO_LOADER)
                                .map(t -> t.getName() + " runs with " + t.getContextClassLoader()).toList(),
                        () -> portico().stream().allMatch(t -> t.getContextClassLoader() == PORTICO_LOADER));
            }

            tomcat.stop();

            List<String> left = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("portico-") || pinsAWebApplication(t) || inDefaultChannelGroup(t))
                    .map(t -> t.getName() + " (" + t.getContextClassLoader() + ")").toList();
            assertEquals(List.of(), left, "threads left after Tomcat stopped");
            List<String> leaks = log.messages(Level.WARNING).stream().filter(m -> m.contains("failed to stop it")).toList();
            assertEquals(List.of(), leaks, "Tomcat's leak warnings");
        }
    }

    private static List<Thread> portico() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("portico-")).toList();
    }

    private static boolean pinsAWebApplication(Thread thread) {
        return thread.getContextClassLoader() instanceof WebappClassLoaderBase;
    }

    /** A thread of the JVM-wide default asynchronous channel group (sun.nio.ch, started on first use). */
    private static boolean inDefaultChannelGroup(Thread thread) {
        return !thread.getName().startsWith("portico-") && Arrays.stream(thread.getStackTrace())
                .anyMatch(frame -> frame.getClassName().startsWith("sun.nio.ch.EPollPort")
                        || frame.getClassName().startsWith("sun.nio.ch.AsynchronousChannelGroupImpl"));
    }
}
