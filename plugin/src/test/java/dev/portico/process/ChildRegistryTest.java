package dev.portico.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

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
