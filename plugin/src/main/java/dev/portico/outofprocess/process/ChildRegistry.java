package dev.portico.outofprocess.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

/**
 * A file that lists the children Portico has running, so that after the JVM was killed outright
 * (SIGKILL, OOM killer, power-off of a container) the next start can find and end them. Linux
 * has no job objects reachable from Java; a record on disk is the portable substitute. A pid is
 * only trusted together with its start time, so a recycled pid never gets a stranger killed.
 */
public final class ChildRegistry {

    private static final Log log = LogFactory.getLog(ChildRegistry.class);
    private static final StringManager sm = StringManager.getManager(ChildRegistry.class);

    /** Between SIGTERM and SIGKILL for leftovers: long enough to flush and exit, short enough not to hold up Tomcat's start. */
    static final Duration LEFTOVER_GRACE = Duration.ofSeconds(2);

    private final Path file;
    private final Map<Long, String> lines = new LinkedHashMap<>();

    public ChildRegistry(Path file) {
        this.file = file;
    }

    /**
     * Ends every process a previous run recorded and that is still the same process: SIGTERM to
     * all of them (and their descendants) at once, one grace period for all, then SIGKILL to the
     * survivors, so that Tomcat's start waits one grace period however many are left over.
     */
    public synchronized int reapLeftovers() {
        if (!Files.exists(file)) {
            return 0;
        }
        List<ProcessTree> leftovers = new ArrayList<>();
        for (ProcessHandle leftover : recordedAndAlive()) {
            leftovers.add(ProcessTree.of(leftover));
        }
        leftovers.forEach(ProcessTree::terminate);
        if (!ProcessTree.awaitAll(leftovers, System.nanoTime() + LEFTOVER_GRACE.toNanos())) {
            List<ProcessTree> survivors = leftovers.stream().filter(ProcessTree::anyAlive).toList();
            log.warn(sm.getString("childRegistry.killing", String.valueOf(survivors.size()),
                    String.valueOf(LEFTOVER_GRACE.toMillis())));
            ProcessTree.killAll(survivors);
        }
        lines.clear();
        persist();
        return leftovers.size();
    }

    /** The recorded processes still running; a line that cannot be parsed is skipped, not the rest of the file. */
    private List<ProcessHandle> recordedAndAlive() {
        List<ProcessHandle> alive = new ArrayList<>();
        List<String> recorded;
        try {
            recorded = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            log.warn(sm.getString("childRegistry.unreadable", file, e.toString()));
            return alive;
        }
        for (String line : recorded) {
            String[] parts = line.split(" ", 3);
            if (parts.length < 3) {
                continue;
            }
            long pid;
            long startMillis;
            try {
                pid = Long.parseLong(parts[0]);
                startMillis = Long.parseLong(parts[1]);
            } catch (NumberFormatException e) {
                continue;
            }
            Optional<ProcessHandle> handle = ProcessHandle.of(pid);
            if (handle.isPresent() && sameStart(handle.get(), startMillis)) {
                log.warn(sm.getString("childRegistry.leftover", String.valueOf(pid), parts[2], file));
                alive.add(handle.get());
            }
        }
        return alive;
    }

    private static boolean sameStart(ProcessHandle handle, long recordedMillis) {
        Optional<Instant> start = handle.info().startInstant();
        // the start time read from /proc has a resolution of a clock tick; allow a little slack
        return start.isPresent() && Math.abs(start.get().toEpochMilli() - recordedMillis) < 2000;
    }

    public synchronized void add(ProcessHandle process, String appName) {
        long start = process.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        lines.put(process.pid(), process.pid() + " " + start + " " + appName);
        persist();
    }

    public synchronized void remove(ProcessHandle process) {
        if (lines.remove(process.pid()) != null) {
            persist();
        }
    }

    private void persist() {
        try {
            Files.createDirectories(file.getParent());
            Path temp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(temp, lines.values(), StandardCharsets.UTF_8);
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            log.warn(sm.getString("childRegistry.unwritable", file, e.toString()));
        }
    }
}
