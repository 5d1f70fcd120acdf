package dev.portico.outofprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.stream.Stream;

import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.PorticoValve;
import dev.portico.hosting.InternalContainer;
import dev.portico.testing.CapturedLog;
import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Poll;

/** The forwarding Context of an out-of-process app, as Tomcat sees it. */
@Timeout(60)
class ForwardingContextTest {

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> valve.setShutdownTimeLimit(2));

    /**
     * A forwarding Context runs no app code, so its stop has no thread to report: Tomcat's own
     * background thread, caught running the Context's periodic work (with the Context's loader as
     * its context class loader) as the Context stops, was reported as a thread the app "failed to
     * stop" — a leak warning in Tomcat's log, now and then, at the end of a test run.
     */
    @Test
    void stoppingAnAppWhileAThreadRunsWithItsContextLoaderReportsNoLeak() throws Exception {
        Path app = tomcat.nodeApp("leakless", "", Map.of());
        assertEquals(200, tomcat.get("/leakless/").statusCode());
        ClassLoader loader = forwardingContext("/leakless").getLoader().getClassLoader();
        CountDownLatch release = new CountDownLatch(1);
        Thread caught = new Thread(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "caught-in-background-work");
        caught.setContextClassLoader(loader);
        caught.start();
        try (CapturedLog log = new CapturedLog()) {
            try (Stream<Path> files = Files.walk(app)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            Poll.until(Duration.ofSeconds(15), "the app's Context removed",
                    () -> forwardingContextOrNull("/leakless") == null);
            List<String> leaks = log.messages(Level.WARNING).stream().filter(m -> m.contains("failed to stop")).toList();
            assertTrue(leaks.isEmpty(), leaks.toString());
        } finally {
            release.countDown();
            caught.join();
        }
    }

    private static Context forwardingContext(String path) {
        Context context = forwardingContextOrNull(path);
        assertNotNull(context, "no forwarding Context at " + path);
        return context;
    }

    /** Portico's internal Host holds the hosted apps' Contexts; only the valve leads there, so the test reaches it by reflection. */
    private static Context forwardingContextOrNull(String path) {
        try {
            Field internal = PorticoValve.class.getDeclaredField("internal");
            internal.setAccessible(true);
            InternalContainer container = (InternalContainer) internal.get(tomcat.valve());
            for (Container child : container.host().findChildren()) {
                if (child instanceof Context context && context.getPath().equals(path)) {
                    return context;
                }
            }
            return null;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
