package dev.portico.outofprocess.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.hosting.AppStatus;
import dev.portico.hosting.InFlight;
import dev.portico.integration.BackendContract;
import dev.portico.outofprocess.backend.Backend;
import dev.portico.outofprocess.backend.BackendAddress;
import dev.portico.outofprocess.backend.HttpProbe;

/**
 * One child process of an app, from its launch to its exit: where it listens, the token it
 * trusts, where it stands in its pool, what it is serving, and its stop sequence.
 *
 * <pre>
 *   STARTING ──probe passes──▶ READY ──retired (limit, recycle)──▶ DRAINING ──▶ STOPPED
 *       │                        └──health checks, outlier──▶ EJECTED ─────────▲
 *       └──exits, times out ──────────────────────────────────────────────────┘
 * </pre>
 */
public final class BackendProcess implements Backend {

    /** Where a process stands in its pool. */
    public enum State { STARTING, READY, DRAINING, EJECTED, STOPPED }

    private static final Log log = LogFactory.getLog(BackendProcess.class);
    private static final StringManager sm = StringManager.getManager(BackendProcess.class);

    private final Process process;
    private final BackendAddress address;
    private final String token;
    private final Instant started;
    private final OutputCapture output;
    private final long generation;
    private final String route;
    private final InFlight inFlight = new InFlight();
    private final AtomicLong requests = new AtomicLong();
    private volatile State state = State.STARTING;
    private volatile Instant readyAt;
    private volatile boolean retiring;
    private volatile AppStatus.Failure lastFailure;

    public BackendProcess(Process process, BackendAddress address, String token, OutputCapture output, long generation,
            String route) {
        this.process = process;
        this.address = address;
        this.token = token;
        this.output = output;
        this.generation = generation;
        this.route = route;
        this.started = Instant.now();
    }

    @Override
    public BackendAddress address() {
        return address;
    }

    @Override
    public String token() {
        return token;
    }

    public long pid() {
        return process.pid();
    }

    public Instant started() {
        return started;
    }

    @Override
    public boolean isAlive() {
        return process.isAlive();
    }

    public OutputCapture output() {
        return output;
    }

    @Override
    public String route() {
        return route;
    }

    public State state() {
        return state;
    }

    @Override
    public int inFlight() {
        return inFlight.count();
    }

    long generation() {
        return generation;
    }

    public boolean isRetiring() {
        return retiring;
    }

    public void retire() {
        retiring = true;
    }

    public void state(State state) {
        this.state = state;
        if (state == State.READY) {
            readyAt = Instant.now();
        }
    }

    public void failed(String message) {
        lastFailure = new AppStatus.Failure(Instant.now(), message);
    }

    /** @return the requests this process has been given, this one included */
    public long requestStarted() {
        inFlight.enter();
        return requests.incrementAndGet();
    }

    public void requestEnded() {
        inFlight.exit();
    }

    public ProcessHandle handle() {
        return process.toHandle();
    }

    /** Once it has exited: its socket, if it had one, goes (nothing will ever listen there again); its output ends. */
    public void awaitExitCleanUp() {
        SocketDirectory.remove(address);
        output.awaitEnd(500);
    }

    public int exitCode() {
        return process.exitValue();
    }

    /** SIGKILL to the whole tree, now. */
    public void killNow() {
        ProcessTree.of(process.toHandle()).killNow();
    }

    public CompletableFuture<Process> onExit() {
        return process.onExit();
    }

    /** Resident memory of the process and its descendants, from /proc; -1 where there is no /proc. */
    public long residentBytes() {
        ProcessTree tree = ProcessTree.of(process.toHandle());
        long total = 0;
        boolean any = false;
        for (ProcessHandle member : tree.members()) {
            long bytes = residentBytes(member.pid());
            if (bytes >= 0) {
                total += bytes;
                any = true;
            }
        }
        return any ? total : -1;
    }

    private static long residentBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).replace("kB", "").trim()) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone meanwhile, or not Linux
        }
        return -1;
    }

    public AppStatus.ProcessStatus status() {
        return new AppStatus.ProcessStatus(pid(), address.port(), address.socket(), state.name().toLowerCase(java.util.Locale.ROOT)
                + (retiring && state == State.READY ? " (being replaced)" : ""), generation, requests.get(),
                inFlight.count(), started, readyAt, state == State.STOPPED ? -1 : residentBytes(), lastFailure);
    }

    /**
     * Waits up to {@code drainLimit} for the requests in flight, then stops the process: the
     * shutdown request, SIGTERM, and at the end of {@code limit} SIGKILL to the whole tree. Blocks.
     */
    public void drainAndStop(String appName, String contextPath, Duration drainLimit, Duration limit, HttpProbe http) {
        int left = inFlight.drain(drainLimit);
        if (left > 0) {
            log.warn(sm.getString("backend.drainTimeout", appName, this, String.valueOf(left)));
        }
        terminate(appName, contextPath, limit, http);
        state = State.STOPPED;
    }

    private void terminate(String appName, String contextPath, Duration limit, HttpProbe http) {
        ProcessHandle handle = process.toHandle();
        ProcessTree tree = ProcessTree.of(handle);
        long limitNanos = limit.toNanos();
        long begin = System.nanoTime();
        if (handle.isAlive() && limitNanos > 0) {
            if (requestShutdown(http, contextPath, Math.min(1000, limit.toMillis()))) {
                waitForExit(handle, tree, begin + limitNanos / 2);
            }
            if (handle.isAlive()) {
                tree.refresh();
                handle.destroy(); // SIGTERM
                waitForExit(handle, tree, begin + limitNanos);
            }
        }
        if (tree.anyAlive()) {
            if (handle.isAlive()) {
                log.warn(sm.getString("backend.killing", appName, this, String.valueOf(limit.toSeconds())));
            }
            tree.killNow();
        }
        // the process is gone, so its output closes: let the pump thread end before the app's Context does
        output.awaitEnd(500);
        SocketDirectory.remove(address);
        log.info(sm.getString("backend.stopped", appName, this));
    }

    /** The authenticated shutdown message (backend-contract.md), over the process's own transport. */
    private boolean requestShutdown(HttpProbe http, String contextPath, long timeoutMillis) {
        try {
            int status = http.shutdown(address, contextPath + BackendContract.SHUTDOWN_PATH, token, Duration.ofMillis(timeoutMillis))
                    .get(timeoutMillis + 250, TimeUnit.MILLISECONDS);
            return status >= 200 && status < 300;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            return false;
        }
    }

    private static void waitForExit(ProcessHandle handle, ProcessTree tree, long deadlineNanos) {
        while (handle.isAlive() && System.nanoTime() - deadlineNanos < 0) {
            tree.refresh();
            sleep(10);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "pid " + pid() + " on " + address;
    }
}
