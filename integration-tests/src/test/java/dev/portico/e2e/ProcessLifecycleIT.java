package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

import dev.portico.testsupport.Poll;

/**
 * No backend outlives its Tomcat: graceful stop, a backend that ignores the shutdown request and
 * SIGTERM (and has a child of its own), and a Tomcat JVM killed with SIGKILL. Each test has its
 * own Tomcat, since each one ends it.
 */
class ProcessLifecycleIT {

    @Test
    void gracefulStopEndsTheBackend() {
        try (TomcatDistribution tomcat = TomcatDistribution.named("graceful").create()) {
            tomcat.writeApp("node", PorticoXml.nodeBackend().asFile());
            tomcat.start();
            long backend = pidOf(tomcat, "node");

            tomcat.stop();

            assertFalse(Pids.isRunning(backend), "the backend (pid " + backend + ") outlived Tomcat's stop");
            tomcat.assertNoLeftoverProcesses();
            tomcat.assertCleanLog();
        }
    }

    @Test
    void stubbornBackendAndItsChildAreKilledAfterTheShutdownTimeLimit() {
        try (TomcatDistribution tomcat = TomcatDistribution.named("stubborn").create()) {
            tomcat.writeApp("stubborn", PorticoXml.nodeBackend()
                    .attribute("shutdownTimeLimit", "2")
                    .env("BACKEND_IGNORE_SIGTERM", "1")
                    .env("BACKEND_SPAWN_CHILD", "1")
                    .asFile());
            tomcat.start();
            long backend = pidOf(tomcat, "stubborn");
            long grandchild = Poll.until(Duration.ofSeconds(5), "the backend's `sleep 300` child",
                    () -> Pids.children(backend).stream()
                            .filter(child -> Pids.commandLine(child).contains("sleep")).findFirst(),
                    Optional::isPresent).get().pid();

            long start = System.nanoTime();
            tomcat.stop();
            long stopMs = (System.nanoTime() - start) / 1_000_000;

            assertFalse(Pids.isRunning(backend), "the stubborn backend (pid " + backend + ") survived");
            assertFalse(Pids.isRunning(grandchild), "its child (pid " + grandchild + ") survived");
            assertTrue(stopMs < 2_000 + 15_000, "stopping took " + stopMs + " ms");
            tomcat.assertNoLeftoverProcesses();
            tomcat.assertCleanLog();
        }
    }

    @Test
    void orphansOfAKilledTomcatAreEndedWhenItStartsAgain() {
        try (TomcatDistribution tomcat = TomcatDistribution.named("orphans").create()) {
            // The backend must not end itself when its parent dies: Portico has to clean up.
            tomcat.writeApp("node", PorticoXml.nodeBackend().env("BACKEND_IGNORE_PARENT", "1").asFile());
            tomcat.start();
            long orphan = pidOf(tomcat, "node");

            tomcat.kill();
            System.out.printf("after kill -9 of Tomcat the backend (pid %d) is %s%n",
                    orphan, Pids.isRunning(orphan) ? "still running (orphaned)" : "already gone");
            tomcat.start();

            Pids.awaitGone(orphan, Duration.ofSeconds(10), "the orphaned backend of the killed Tomcat");
            assertNotEquals(orphan, pidOf(tomcat, "node"), "a new backend serves the app");
            tomcat.stop();
            tomcat.assertNoLeftoverProcesses();
            tomcat.assertCleanLog();
        }
    }

    private static long pidOf(TomcatDistribution tomcat, String app) {
        long pid = tomcat.http().getJson("/" + app + "/env").path("pid").asLong();
        assertTrue(pid > 0, "the backend reports its pid");
        return pid;
    }
}
