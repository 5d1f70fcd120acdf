package dev.portico.process;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.AppConfig;

/**
 * Starts, watches, restarts and stops the process of one out-of-process app.
 *
 * <pre>
 *   IDLE ──acquire──▶ STARTING ──listening──▶ RUNNING ──exit (crash)──▶ IDLE
 *    ▲                   │ exit/timeout: retry once on a new port, then fail → IDLE
 *    └──── stop ◀── STOPPING ◀──────── stop (offline, recycle, Tomcat stop) ────┘
 * </pre>
 *
 * Every unrequested exit (failed start or crash) is a failure; more than rapidFailsPerMinute
 * failures within 60 s hold the app failed until the oldest of them is a minute old, so a
 * crash loop costs a start per request at most, never a busy restart loop.
 */
public final class ProcessSupervisor {

    /** Where an app's process stands. */
    public enum State { IDLE, STARTING, RUNNING, STOPPING, CLOSED }

    private static final Log log = LogFactory.getLog(ProcessSupervisor.class);
    private static final StringManager sm = StringManager.getManager(ProcessSupervisor.class);
    private static final int START_ATTEMPTS_PER_REQUEST = 2;
    private static final Duration FAILURE_WINDOW = Duration.ofMinutes(1);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String appName;
    private final AppConfig config;
    private final String contextPath;
    private final ProcessLauncher launcher;
    private final ChildRegistry registry;
    private final ScheduledExecutorService scheduler;
    private final Executor blockingExecutor;
    private final ThreadFactory outputThreads;
    private final Clock clock = Clock.systemUTC();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Deque<Instant> failures = new ArrayDeque<>();

    private State state = State.IDLE;
    private BackendProcess current;
    private BackendProcess launching;
    private CompletableFuture<BackendProcess> starting;
    private StartFailure lastFailure;
    private int starts;
    private int startAttempt;

    /**
     * What all supervisors of a Host share; the valve owns the threads and ends them when it stops.
     *
     * @param scheduler short non-blocking tasks: readiness probes, timers
     * @param blockingExecutor stops, which wait for processes to exit
     * @param outputThreads the threads that drain each process's output
     */
    public record Services(ChildRegistry registry, ScheduledExecutorService scheduler, Executor blockingExecutor,
            ThreadFactory outputThreads, dev.portico.hosting.HostingEvents events) {
    }

    public ProcessSupervisor(String appName, String contextPath, AppConfig config, Path warLocation, Services services) {
        this.appName = appName;
        this.contextPath = contextPath;
        this.config = config;
        this.launcher = new ProcessLauncher(config, contextPath, warLocation);
        this.registry = services.registry();
        this.scheduler = services.scheduler();
        this.blockingExecutor = services.blockingExecutor();
        this.outputThreads = services.outputThreads();
    }

    /**
     * The running backend, or a future that completes when the start in progress (or one begun
     * now) has it listening. Concurrent callers share one start.
     */
    public synchronized CompletableFuture<BackendProcess> acquire() {
        switch (state) {
            case RUNNING:
                if (current.isAlive()) {
                    return CompletableFuture.completedFuture(current);
                }
                // exited, and the exit notification is still on its way: do not hand out a dead backend
                noteCrash(current, "(not yet known)");
                return acquire();
            case STARTING:
                return starting;
            case IDLE:
                Instant heldUntil = heldUntil();
                if (heldUntil != null) {
                    return CompletableFuture.failedFuture(heldFailure(heldUntil));
                }
                state = State.STARTING;
                starting = new CompletableFuture<>();
                CompletableFuture<BackendProcess> result = starting;
                launch(1);
                return result;
            default:
                return CompletableFuture.failedFuture(new StartFailure(
                        sm.getString("supervisor.stopping", appName), "", null));
        }
    }

    private StartFailure heldFailure(Instant heldUntil) {
        String until = LocalTime.ofInstant(heldUntil, ZoneId.systemDefault()).truncatedTo(ChronoUnit.SECONDS).toString();
        String message = sm.getString("supervisor.held", appName, String.valueOf(failures.size()), until,
                String.valueOf(config.rapidFailsPerMinute()));
        StartFailure last = lastFailure;
        return new StartFailure(message + (last == null ? "" : " " + last.getMessage()),
                last == null ? "" : last.outputTail(), last == null ? null : last.logFile());
    }

    /** Caller holds the lock and state is STARTING. */
    private void launch(int attempt) {
        int port;
        String token = HexFormat.of().formatHex(randomBytes());
        startAttempt = attempt;
        Process process;
        try {
            port = freeLoopbackPort();
            process = launcher.start(port, token);
        } catch (IOException e) {
            recordFailure();
            failStart(new StartFailure(sm.getString("supervisor.launchFailed", appName,
                    String.join(" ", launcher.command()), config.appDirectory(), e.getMessage()), "", null));
            return;
        }
        starts++;
        registry.add(process.toHandle(), appName);
        OutputCapture output = OutputCapture.start(process.getInputStream(), config, process.pid(), appName,
                outputThreads);
        BackendProcess backend = new BackendProcess(process, port, token, output);
        launching = backend;
        log.info(sm.getString("supervisor.launched", appName, String.valueOf(process.pid()), String.valueOf(port),
                String.valueOf(attempt)));
        // off the JDK's process reaper thread: onExit waits briefly for the output pipe to drain
        backend.onExit().whenCompleteAsync((p, x) -> onExit(backend), blockingExecutor);
        long deadline = System.nanoTime() + config.startupTimeLimit().toNanos();
        scheduler.execute(() -> probe(backend, deadline, 1));
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    /**
     * Readiness: the port accepts a connection. Polled from 1 ms up to 20 ms apart, so a
     * backend that starts in no time costs no time; a child that exits fails the start at once.
     */
    private void probe(BackendProcess backend, long deadline, long delayMillis) {
        try {
            probeOnce(backend, deadline, delayMillis);
        } catch (Throwable t) {
            // a probe that died silently would leave every waiting request parked for good
            synchronized (this) {
                if (launching == backend && state == State.STARTING) {
                    launching = null;
                    recordFailure();
                    failStart(new StartFailure(sm.getString("supervisor.probeFailed", appName, backend, t.toString()),
                            backend.output().tail(), backend.output().logFile()));
                }
            }
            blockingExecutor.execute(() -> ProcessTree.of(backend.process().toHandle()).killNow());
        }
    }

    private void probeOnce(BackendProcess backend, long deadline, long delayMillis) {
        synchronized (this) {
            if (launching != backend || state != State.STARTING) {
                return;
            }
        }
        if (!backend.isAlive()) {
            return; // onExit takes it from here
        }
        if (accepts(backend.port())) {
            onListening(backend);
        } else if (System.nanoTime() - deadline >= 0) {
            onStartTimeout(backend);
        } else {
            long next = Math.min(delayMillis * 2, 20);
            scheduler.schedule(() -> probe(backend, deadline, next), delayMillis, TimeUnit.MILLISECONDS);
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 250);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void onListening(BackendProcess backend) {
        CompletableFuture<BackendProcess> done;
        synchronized (this) {
            if (launching != backend || state != State.STARTING) {
                return;
            }
            launching = null;
            current = backend;
            state = State.RUNNING;
            done = starting;
            starting = null;
        }
        log.info(sm.getString("supervisor.listening", appName, backend,
                String.valueOf(Duration.between(backend.started(), Instant.now()).toMillis())));
        done.complete(backend);
    }

    private void onStartTimeout(BackendProcess backend) {
        synchronized (this) {
            if (launching != backend || state != State.STARTING) {
                return;
            }
            launching = null;
            recordFailure();
            failStart(new StartFailure(sm.getString("supervisor.startTimeout", appName, backend,
                    String.valueOf(config.startupTimeLimit().toSeconds())),
                    backend.output().tail(), backend.output().logFile()));
        }
        blockingExecutor.execute(() -> ProcessTree.of(backend.process().toHandle()).killNow());
    }

    private void onExit(BackendProcess backend) {
        registry.remove(backend.process().toHandle());
        backend.output().awaitEnd(500);
        int exitCode = backend.process().exitValue();
        synchronized (this) {
            if (launching == backend && state == State.STARTING) {
                launching = null;
                recordFailure();
                StartFailure failure = new StartFailure(sm.getString("supervisor.exitedDuringStart", appName,
                        backend, String.valueOf(exitCode)), backend.output().tail(), backend.output().logFile());
                if (startAttempt < START_ATTEMPTS_PER_REQUEST && heldUntil() == null) {
                    // ANCM re-picks the port when a start fails: the port may have been taken meanwhile
                    log.warn(failure.getMessage() + " " + sm.getString("supervisor.retrying"));
                    launch(startAttempt + 1);
                } else {
                    failStart(failure);
                }
            } else {
                noteCrash(backend, Integer.toString(exitCode));
            }
        }
    }

    /** Caller holds the lock. The running process is gone: the next request starts a new one. */
    private void noteCrash(BackendProcess backend, String exitCode) {
        if (current == backend && state == State.RUNNING) {
            current = null;
            state = State.IDLE;
            recordFailure();
            String tail = backend.output().tail();
            log.warn(sm.getString("supervisor.crashed", appName, backend, exitCode,
                    tail.isEmpty() ? sm.getString("supervisor.printedNothing") : lastLines(tail, 20)));
        }
    }

    /**
     * Completes when the backend has exited and the supervisor knows it, or after {@code timeout}:
     * a request that found the backend's port closed waits for this before it tries again, so
     * that it is served by the next process rather than answered 502 by the dying one.
     */
    public CompletableFuture<Void> awaitExit(BackendProcess backend, Duration timeout) {
        CompletableFuture<Void> noted = backend.onExit().thenAccept(process -> {
            synchronized (this) {
                noteCrash(backend, Integer.toString(process.exitValue()));
            }
        });
        // the valve's scheduler, not completeOnTimeout: that starts the JVM-wide delay thread, which
        // inherits the context class loader of whichever request thread first needs it
        try {
            ScheduledFuture<?> timer = scheduler.schedule(() -> noted.complete(null), timeout.toMillis(),
                    TimeUnit.MILLISECONDS);
            noted.whenComplete((ignored, error) -> timer.cancel(false));
        } catch (RejectedExecutionException stopping) {
            noted.complete(null);
        }
        return noted;
    }

    /** Caller holds the lock. */
    private void failStart(StartFailure failure) {
        lastFailure = failure;
        log.error(failure.getMessage() + (failure.outputTail().isEmpty() ? ""
                : System.lineSeparator() + lastLines(failure.outputTail(), 20)));
        CompletableFuture<BackendProcess> done = starting;
        starting = null;
        if (state == State.STARTING) {
            state = State.IDLE;
        }
        if (done != null) {
            done.completeExceptionally(failure);
        }
    }

    private void recordFailure() {
        failures.addLast(clock.instant());
    }

    /** Caller holds the lock. Null when the app may be started. */
    private Instant heldUntil() {
        Instant now = clock.instant();
        while (!failures.isEmpty() && failures.peekFirst().plus(FAILURE_WINDOW).isBefore(now)) {
            failures.removeFirst();
        }
        if (failures.size() > config.rapidFailsPerMinute()) {
            return failures.peekFirst().plus(FAILURE_WINDOW);
        }
        return null;
    }

    /** Counts a forwarded request in flight, so that a stop can drain it first. */
    public void requestStarted() {
        inFlight.incrementAndGet();
    }

    public void requestEnded() {
        inFlight.decrementAndGet();
    }

    /**
     * Drains in-flight requests (up to shutdownTimeLimit), then stops the process: the shutdown
     * request, SIGTERM, and after shutdownTimeLimit SIGKILL to the whole tree.
     *
     * @param permanently true when the app goes away; false when it may start again later
     */
    public CompletableFuture<Void> stop(boolean permanently) {
        BackendProcess running;
        BackendProcess launched;
        CompletableFuture<BackendProcess> abandoned;
        synchronized (this) {
            if (state == State.CLOSED) {
                return CompletableFuture.completedFuture(null);
            }
            running = current;
            launched = launching;
            abandoned = starting;
            current = null;
            launching = null;
            starting = null;
            state = State.STOPPING;
        }
        if (abandoned != null) {
            abandoned.completeExceptionally(new StartFailure(sm.getString("supervisor.stopping", appName), "", null));
        }
        return CompletableFuture.runAsync(() -> {
            if (running != null) {
                drain();
                terminate(running);
            }
            if (launched != null) {
                terminate(launched);
            }
            synchronized (this) {
                state = permanently ? State.CLOSED : State.IDLE;
            }
        }, blockingExecutor);
    }

    private void drain() {
        long deadline = System.nanoTime() + config.shutdownTimeLimit().toNanos();
        while (inFlight.get() > 0 && System.nanoTime() - deadline < 0) {
            sleep(10);
        }
        if (inFlight.get() > 0) {
            log.warn(sm.getString("supervisor.drainTimeout", appName, String.valueOf(inFlight.get())));
        }
    }

    private void terminate(BackendProcess backend) {
        ProcessHandle handle = backend.process().toHandle();
        ProcessTree tree = ProcessTree.of(handle);
        long limitNanos = config.shutdownTimeLimit().toNanos();
        long begin = System.nanoTime();
        if (handle.isAlive() && limitNanos > 0) {
            if (requestShutdown(backend, Math.min(1000, config.shutdownTimeLimit().toMillis()))) {
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
                log.warn(sm.getString("supervisor.killing", appName, backend,
                        String.valueOf(config.shutdownTimeLimit().toSeconds())));
            }
            tree.killNow();
        }
        registry.remove(handle);
        // the process is gone, so its output closes: let the pump thread end before the app's Context does
        backend.output().awaitEnd(500);
        log.info(sm.getString("supervisor.stopped", appName, backend));
    }

    private boolean requestShutdown(BackendProcess backend, long timeoutMillis) {
        try {
            URI uri = URI.create("http://127.0.0.1:" + backend.port() + contextPath + "/.portico/shutdown");
            HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection();
            connection.setRequestMethod("POST");
            connection.setConnectTimeout((int) timeoutMillis);
            connection.setReadTimeout((int) timeoutMillis);
            connection.setRequestProperty("X-Portico-Token", backend.token());
            connection.setRequestProperty("X-Portico-Event", "shutdown");
            connection.setFixedLengthStreamingMode(0);
            connection.setDoOutput(true);
            connection.getOutputStream().close();
            int status = connection.getResponseCode();
            connection.disconnect();
            return status >= 200 && status < 300;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static void waitForExit(ProcessHandle handle, ProcessTree tree, long deadlineNanos) {
        while (handle.isAlive() && System.nanoTime() - deadlineNanos < 0) {
            tree.refresh();
            sleep(10);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The last {@code count} lines of {@code text} (a final line break does not count as a line).
     * Runs on the crash path, so it must take any text, the empty output of a silent process too.
     */
    static String lastLines(String text, int count) {
        int pos = text.endsWith("\n") ? text.length() - 1 : text.length();
        for (int i = 0; i < count; i++) {
            pos = text.lastIndexOf('\n', pos - 1);
            if (pos < 0) {
                return text;
            }
        }
        return text.substring(pos + 1);
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    public synchronized State state() {
        return state;
    }

    /** The running backend, or null. */
    public synchronized BackendProcess current() {
        return current;
    }

    public synchronized StartFailure lastFailure() {
        return lastFailure;
    }

    public synchronized int starts() {
        return starts;
    }

    /** This app's status: one process at most, in the state the supervisor knows it. */
    public synchronized dev.portico.hosting.AppStatus status(String description) {
        BackendProcess backend = current;
        java.util.List<dev.portico.hosting.AppStatus.ProcessStatus> processes = backend == null ? java.util.List.of()
                : java.util.List.of(new dev.portico.hosting.AppStatus.ProcessStatus(backend.pid(), backend.port(),
                        "ready", 0, 0, inFlight.get(), backend.started(), null, -1, null));
        StartFailure failure = lastFailure;
        return new dev.portico.hosting.AppStatus("outOfProcess", state.name().toLowerCase(java.util.Locale.ROOT),
                description, 0, starts, 0, inFlight.get(),
                failure == null ? null : new dev.portico.hosting.AppStatus.Failure(null, failure.getMessage()), null,
                null, processes);
    }

    public int inFlight() {
        return inFlight.get();
    }

    public AppConfig config() {
        return config;
    }
}
