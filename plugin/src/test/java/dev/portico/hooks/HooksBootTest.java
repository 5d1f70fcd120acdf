package dev.portico.hooks;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.logging.Level;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.portico.testing.CapturedLog;

/**
 * When the hooks start and when they do not: no directory, nothing to discover, a hook Weld
 * refuses. Hosting never depends on it; and the hook overhead per event, measured (printed, not asserted).
 */
class HooksBootTest {

    @TempDir
    Path dir;
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private final CapturedLog log = new CapturedLog();

    @AfterEach
    void end() {
        timers.shutdownNow();
        log.close();
    }

    private LifecycleHooks start(Path hooks) {
        return LifecycleHooks.start(hooks, dir.resolve("work"), Duration.ofSeconds(5), timers, "test-" + System.nanoTime());
    }

    @Test
    void noDirectoryMeansNoHooksAndNothingBooted() {
        assertNull(start(dir.resolve("absent")));
        assertTrue(log.messages(Level.ALL).isEmpty(), "not a word: " + log.messages(Level.ALL));
        assertTrue(!Files.exists(dir.resolve("work")), "nothing unpacked");
    }

    @Test
    void aDirectoryWithoutBeanArchivesSaysSoAndBootsNothing() throws IOException {
        Path hooks = Files.createDirectories(dir.resolve("hooks"));
        assertNull(start(hooks));
        try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(hooks.resolve("library.jar")))) {
            jar.putNextEntry(new JarEntry("some/Thing.class"));
        }
        assertNull(start(hooks));
        List<String> warnings = log.messages(Level.WARNING);
        assertTrue(warnings.get(0).contains("holds no jar"), warnings.toString());
        assertTrue(warnings.get(1).contains("no jar in [" + hooks + "] has a META-INF/beans.xml"), warnings.toString());
    }

    @Test
    void aHookWeldRefusesIsLoggedAndHostingRunsWithoutHooks() {
        Path hooks = dir.resolve("hooks");
        TestHookJar.build(hooks.resolve("broken.jar"), "testhooks-broken");
        assertNull(start(hooks));
        String error = String.join("\n", log.messages(Level.SEVERE));
        assertTrue(error.contains("could not start; hosting runs without hooks") && error.contains("WELD-001408")
                && error.contains("Missing"), error);
    }

    /**
     * The cost of telling hooks an event, for the closing note: on the hosting thread (a map
     * lookup and a hand-over to the observers' thread) and until one no-op observer has seen it,
     * and the processStarting round trip the launching thread waits for.
     */
    @Test
    void overheadPerEvent() throws Exception {
        Path hooks = dir.resolve("hooks");
        TestHookJar.build(hooks.resolve("bench.jar"), "testhooks-bench");
        LifecycleHooks events = start(hooks);
        assertNotNull(events);
        int rounds = 3;
        int count = 20_000;
        for (int round = 1; round <= rounds; round++) {
            long begin = System.nanoTime();
            for (int i = 0; i < count; i++) {
                events.tell(new dev.portico.hooks.api.AppOnline("bench")); // one sync observer
            }
            long told = System.nanoTime() - begin;
            begin = System.nanoTime();
            for (int i = 0; i < count; i++) {
                events.tell(new dev.portico.hooks.api.AppOffline("bench")); // no observer at all
            }
            long unobserved = System.nanoTime() - begin;
            begin = System.nanoTime();
            int starts = count / 10;
            for (int i = 0; i < starts; i++) {
                events.ask(new dev.portico.hooks.api.ProcessStarting("bench", 0, List.of("a"), Map.of("K", "v")));
            }
            long asked = System.nanoTime() - begin;
            System.out.printf("hook overhead, round %d: told (1 sync observer) %.2f us/event on the hosting thread;"
                    + " unobserved type %.3f us/event; processStarting round trip (1 observer) %.1f us%n", round,
                    told / 1000.0 / count, unobserved / 1000.0 / count, asked / 1000.0 / starts);
        }
        long begin = System.nanoTime();
        events.close(); // waits for the queued events to reach the observer
        System.out.printf("hook overhead: draining the queue and shutting Weld down took %d ms%n",
                (System.nanoTime() - begin) / 1_000_000);
        assertTrue(Files.readString(hooks.resolve("bench.count")).startsWith(String.valueOf(rounds * count)),
                "every event reached the observer: " + Files.readString(hooks.resolve("bench.count")));
    }
}
