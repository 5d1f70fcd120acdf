package dev.portico.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import dev.portico.testsupport.Poll;

/** Whether a process runs, by pid; a zombie (exited, not yet reaped) counts as gone. */
public final class Pids {

    private Pids() {
    }

    public static boolean isRunning(long pid) {
        return ProcessHandle.of(pid).map(Pids::isRunning).orElse(false);
    }

    public static boolean isRunning(ProcessHandle handle) {
        return handle.isAlive() && !isZombie(handle.pid());
    }

    /** Waits until the process is gone; fails naming it otherwise. */
    public static void awaitGone(long pid, Duration timeout, String what) {
        Poll.until(timeout, what + " (pid " + pid + ") to be gone", () -> !isRunning(pid));
    }

    /** The live child processes of a pid. */
    public static List<ProcessHandle> children(long pid) {
        return ProcessHandle.of(pid).map(h -> h.children().filter(Pids::isRunning).toList()).orElse(List.of());
    }

    public static String commandLine(ProcessHandle handle) {
        return handle.info().commandLine().orElse("?");
    }

    /** The environment of a process ("NAME=value" entries from /proc), empty if it cannot be read. */
    public static List<String> environment(long pid) {
        try {
            String environ = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ")),
                    java.nio.charset.StandardCharsets.UTF_8);
            return List.of(environ.split("\0"));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    private static boolean isZombie(long pid) {
        return state(pid).map(s -> s == 'Z' || s == 'X').orElse(false);
    }

    private static Optional<Character> state(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int afterName = stat.lastIndexOf(')');
            return afterName < 0 || afterName + 2 >= stat.length()
                    ? Optional.empty() : Optional.of(stat.charAt(afterName + 2));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
