package dev.portico.outofprocess.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The record that lets a restarted Tomcat end children left behind by a killed one. */
class ChildRegistryTest {

    @Test
    void leftoverChildrenAndTheirDescendantsAreEndedOnTheNextStart(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("children.txt");
        // a child with a grandchild, like a shell script that starts a server
        Process leftover = new ProcessBuilder("sh", "-c", "sleep 300 & wait").start();
        try {
            waitFor(() -> leftover.toHandle().children().findAny().isPresent());
            ProcessHandle grandchild = leftover.toHandle().children().findFirst().orElseThrow();
            new ChildRegistry(file).add(leftover.toHandle(), "shop");
            assertTrue(Files.readString(file).contains(" shop"));

            int reaped = new ChildRegistry(file).reapLeftovers();

            assertEquals(1, reaped);
            assertTrue(leftover.waitFor(5, TimeUnit.SECONDS), "leftover ended");
            waitFor(() -> !grandchild.isAlive());
            assertEquals("", Files.readString(file).trim(), "the record is cleared");
        } finally {
            ProcessTree.of(leftover.toHandle()).killNow();
        }
    }

    /**
     * Leftovers get SIGTERM first, all at once, and one grace period between them and SIGKILL:
     * four that ignore TERM cost Tomcat's start one grace period, not four.
     */
    @Test
    void leftoversAreAskedToEndTogetherThenKilledAfterOneGracePeriod(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("children.txt");
        Path marker = dir.resolve("terminated.txt");
        List<Process> stubborn = new ArrayList<>();
        Process polite = null;
        ConcurrentLinkedQueue<String> logged = new ConcurrentLinkedQueue<>();
        Logger logger = Logger.getLogger(ChildRegistry.class.getName());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        try {
            ChildRegistry previousRun = new ChildRegistry(file);
            for (int i = 0; i < 4; i++) {
                // SIG_IGN survives exec: a real sleep that ignores SIGTERM
                Process p = new ProcessBuilder("sh", "-c", "trap '' TERM; exec sleep 300").start();
                stubborn.add(p);
                previousRun.add(p.toHandle(), "stubborn" + i);
            }
            polite = new ProcessBuilder("sh", "-c",
                    "trap 'echo terminated > " + marker + "; exit 0' TERM; while :; do sleep 0.05; done").start();
            previousRun.add(polite.toHandle(), "polite");
            Thread.sleep(200); // the shells have installed their traps

            long begin = System.nanoTime();
            int reaped = new ChildRegistry(file).reapLeftovers();
            long tookMillis = (System.nanoTime() - begin) / 1_000_000;

            assertEquals(5, reaped);
            long grace = ChildRegistry.LEFTOVER_GRACE.toMillis();
            assertTrue(tookMillis >= grace - 100 && tookMillis < 2 * grace,
                    "reaping took " + tookMillis + " ms; one grace period is " + grace + " ms");
            for (Process p : stubborn) {
                assertTrue(p.waitFor(2, TimeUnit.SECONDS), "a leftover that ignored SIGTERM was killed");
            }
            assertTrue(polite.waitFor(2, TimeUnit.SECONDS));
            assertEquals("terminated", Files.readString(marker).trim(), "the polite leftover got SIGTERM, not SIGKILL");
            long pid = stubborn.get(0).pid();
            assertTrue(logged.stream().anyMatch(line -> line.contains("process " + pid + " of app [stubborn0]")),
                    "the pid is logged without grouping: " + logged);
        } finally {
            logger.removeHandler(capture);
            for (Process p : stubborn) {
                p.destroyForcibly();
            }
            if (polite != null) {
                polite.destroyForcibly();
            }
        }
    }

    @Test
    void aRecycledPidIsNotKilled(@TempDir Path dir) throws Exception {
        Process stranger = new ProcessBuilder("sleep", "300").start();
        try {
            Path file = dir.resolve("children.txt");
            // same pid, but a start time from long ago: not the process that was recorded
            Files.writeString(file, stranger.pid() + " 1000 shop\n");
            assertEquals(0, new ChildRegistry(file).reapLeftovers());
            assertTrue(stranger.isAlive());
        } finally {
            stranger.destroyForcibly().waitFor();
        }
    }

    @Test
    void aMissingOrGarbledRecordIsHarmless(@TempDir Path dir) throws Exception {
        assertEquals(0, new ChildRegistry(dir.resolve("none.txt")).reapLeftovers());
        Path garbled = dir.resolve("garbled.txt");
        Files.writeString(garbled, "not a number at all\n\n");
        assertEquals(0, new ChildRegistry(garbled).reapLeftovers());
        assertFalse(Files.readString(garbled).contains("not a number"));
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 5 s");
            }
            Thread.sleep(10);
        }
    }
}
