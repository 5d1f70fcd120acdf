package dev.portico.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.portico.testsupport.Poll;

/**
 * Knows every process that belongs to one test Tomcat: the Tomcat JVMs it was told about, every
 * descendant seen while they ran (sampled in the background, so children that were orphaned by a
 * {@code kill -9} are still known), and — as a catch-all — any live process whose command line or
 * environment names the CATALINA_BASE (children inherit Tomcat's environment).
 */
final class ProcessTracker implements AutoCloseable {

    private static final Duration SAMPLE_INTERVAL = Duration.ofMillis(150);
    private static final Path PROC = Path.of("/proc");

    private final String catalinaBase;
    private final byte[] environmentMarker;
    private final Map<ProcessHandle, String> seen = new ConcurrentHashMap<>();
    private final Set<ProcessHandle> roots = ConcurrentHashMap.newKeySet();
    private final Thread sampler;
    private volatile boolean running = true;

    ProcessTracker(Path catalinaBase) {
        this.catalinaBase = catalinaBase.toString();
        this.environmentMarker = ("CATALINA_BASE=" + catalinaBase + "\0").getBytes(StandardCharsets.UTF_8);
        this.sampler = new Thread(this::sampleUntilClosed, "process-tracker " + catalinaBase.getFileName());
        this.sampler.setDaemon(true);
        this.sampler.start();
    }

    /** Starts following a Tomcat JVM and its descendants. */
    void follow(ProcessHandle tomcatJvm) {
        roots.add(tomcatJvm);
        remember(tomcatJvm);
    }

    /** Takes a sample now (descendants of the followed JVMs). */
    void sample() {
        for (ProcessHandle root : roots) {
            if (root.isAlive()) {
                root.descendants().forEach(this::remember);
            }
        }
    }

    /** Every live process that belongs to this Tomcat, the Tomcat JVMs included. */
    List<ProcessHandle> alive() {
        sample();
        Set<ProcessHandle> result = seen.keySet().stream().filter(Pids::isRunning)
                .collect(Collectors.toCollection(LinkedHashSet::new));
        mentioningCatalinaBase().stream().filter(Pids::isRunning).forEach(result::add);
        Set<Long> ours = Stream.concat(Stream.of(ProcessHandle.current()), ancestors(ProcessHandle.current()))
                .map(ProcessHandle::pid).collect(Collectors.toSet());
        result.removeIf(handle -> ours.contains(handle.pid()));
        return new ArrayList<>(result);
    }

    /** A human-readable line for a process: pid and command line. */
    String describe(ProcessHandle handle) {
        return "pid " + handle.pid() + ": " + commandLine(handle);
    }

    /** Kills the given processes with SIGKILL and waits a moment for them to go. */
    static void killAll(List<ProcessHandle> processes) {
        processes.forEach(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        for (ProcessHandle process : processes) {
            while (Pids.isRunning(process) && System.nanoTime() < deadline) {
                Poll.sleep(Duration.ofMillis(20));
            }
        }
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }

    private void sampleUntilClosed() {
        while (running) {
            try {
                sample();
                Thread.sleep(SAMPLE_INTERVAL.toMillis());
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // a process vanished mid-sample: take the next sample
            }
        }
    }

    private void remember(ProcessHandle handle) {
        seen.computeIfAbsent(handle, this::commandLine);
    }

    private String commandLine(ProcessHandle handle) {
        String known = seen.get(handle);
        if (known != null) {
            return known;
        }
        return handle.info().commandLine().orElseGet(() -> readProc(handle.pid(), "cmdline")
                .map(bytes -> new String(bytes, StandardCharsets.UTF_8).replace('\0', ' ').trim())
                .orElse("?"));
    }

    private List<ProcessHandle> mentioningCatalinaBase() {
        List<ProcessHandle> result = new ArrayList<>();
        try (Stream<Path> entries = Files.list(PROC)) {
            entries.map(path -> path.getFileName().toString())
                    .filter(name -> name.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong)
                    .filter(this::mentionsCatalinaBase)
                    .forEach(pid -> ProcessHandle.of(pid).ifPresent(result::add));
        } catch (IOException e) {
            // no /proc (not Linux): rely on the sampled descendants
        }
        return result;
    }

    private boolean mentionsCatalinaBase(long pid) {
        Optional<byte[]> cmdline = readProc(pid, "cmdline");
        if (cmdline.isPresent() && new String(cmdline.get(), StandardCharsets.UTF_8).contains(catalinaBase)) {
            return true;
        }
        return readProc(pid, "environ").map(environ -> indexOf(environ, environmentMarker) >= 0).orElse(false);
    }

    private static Optional<byte[]> readProc(long pid, String file) {
        try {
            return Optional.of(Files.readAllBytes(PROC.resolve(Long.toString(pid)).resolve(file)));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static Stream<ProcessHandle> ancestors(ProcessHandle handle) {
        return Stream.iterate(handle.parent(), Optional::isPresent, h -> h.get().parent()).map(Optional::get);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
