package dev.portico.outofprocess.pool;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.AppConfig;
import dev.portico.config.BackendTransport;
import dev.portico.config.PoolConfig;
import dev.portico.hosting.AppStatus;
import dev.portico.hosting.HostingEvents;
import dev.portico.hosting.StartFailure;
import dev.portico.outofprocess.process.SocketDirectory;
import dev.portico.outofprocess.process.BackendProcess;
import dev.portico.outofprocess.process.OutputCapture;
import dev.portico.outofprocess.process.ProcessLauncher;
import dev.portico.outofprocess.process.ProcessTree;
import dev.portico.outofprocess.process.ChildRegistry;
import dev.portico.outofprocess.backend.PoolSaturated;
import dev.portico.outofprocess.backend.Backend;
import dev.portico.outofprocess.backend.BackendAddress;
import dev.portico.outofprocess.backend.Backends;
import dev.portico.outofprocess.backend.HttpProbe;

/**
 * The processes of one out-of-process app (one generation of it): which of them may take a
 * request, and keeping processesPerApplication of them ready. The forwarding servlet asks the
 * pool for a backend ({@link #acquire}) and tells it how each request went; the pool chooses
 * (sticky route, else the less busy of two picked at random), starts, probes, ejects, replaces,
 * backs off and stops.
 *
 * <pre>
 *   IDLE ──first request, preload──▶ ACTIVE ──idleTimeout──▶ IDLE
 *                                      └──stop──▶ STOPPING ──▶ IDLE, or CLOSED for good
 * </pre>
 *
 * While ACTIVE the pool keeps its size: a process that crashes, fails its health checks, keeps
 * failing at the gateway (an outlier), outgrows memoryLimit or has served maxRequestsPerProcess
 * is replaced — the last two only once the replacement is ready (rolling). Failed starts and
 * crashes feed one {@link RestartBackoff}. A start is made when someone needs it: a request
 * waiting, a replacement owed, or a pool that already has a ready process to fill up to size; a
 * broken app nobody asks for is not restarted in a loop.
 *
 * <p>Locking: one monitor guards the members and the waiters. Nothing slow runs under it:
 * launches (and the processStarting hooks), stops and events run after it is released, on the
 * valve's threads. Requests find a ready process without taking it ({@link #ready} is a
 * snapshot).
 */
public final class BackendPool implements Backends {

    /** Where the pool as a whole stands. */
    public enum State { IDLE, ACTIVE, STOPPING, CLOSED }

    /**
     * What all pools of a Host share; the valve owns the threads and ends them when it stops.
     *
     * @param scheduler short non-blocking tasks: readiness probes, timers, maintenance
     * @param blockingExecutor launches and stops, which wait for processes
     * @param outputThreads the threads that drain each process's output
     * @param events who is told of every start, exit and failure
     * @param httpProbe the GET of readiness and health checks, and the shutdown message
     * @param sockets where the sockets of transport="unix" processes are made
     */
    public record Services(ChildRegistry registry, ScheduledExecutorService scheduler, Executor blockingExecutor,
            ThreadFactory outputThreads, HostingEvents events, HttpProbe httpProbe, SocketDirectory sockets, Clock clock) {
    }

    private static final Log log = LogFactory.getLog(BackendPool.class);
    private static final StringManager sm = StringManager.getManager(BackendPool.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Start attempts a waiting request sees fail before it is answered 502.5 (ANCM re-picks the port once). */
    private static final int START_ATTEMPTS_PER_WAIT = 2;
    /** Failed health checks in a row that take a process out of rotation. */
    static final int FAILED_CHECKS_TO_EJECT = 3;
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
    private static final long MAINTENANCE_MILLIS = 1000;

    private final String appName;
    private final String contextPath;
    private final AppConfig config;
    private final PoolConfig pool;
    private final long generation;
    private final ProcessLauncher launcher;
    private final Services services;
    private final RestartBackoff backoff;

    private final List<BackendProcess> members = new ArrayList<>(); // STARTING and READY (retiring ones too)
    private final Set<BackendProcess> leaving = new LinkedHashSet<>(); // DRAINING and EJECTED, until stopped
    private final Deque<CompletableFuture<Backend>> waiters = new ArrayDeque<>();
    private final Set<CompletableFuture<Void>> launches = new LinkedHashSet<>();
    private volatile BackendProcess[] ready = new BackendProcess[0];
    private volatile long lastActivityNanos = System.nanoTime();
    private State state = State.IDLE;
    private int owed; // starts wanted for background reasons: crashes, ejections, retirements, warm-up
    private int failedAttempts;
    private int starts;
    private int crashes;
    private StartFailure lastStartFailure;
    private AppStatus.Failure lastFailure;
    private CompletableFuture<Void> warmUp;
    private boolean warmUpSettled;
    private ScheduledFuture<?> delayedFill;
    private ScheduledFuture<?> maintenance;
    private long lastHealthCheckNanos = System.nanoTime();

    public BackendPool(String appName, String contextPath, AppConfig config, Path warLocation, long generation,
            Services services) {
        this.appName = appName;
        this.contextPath = contextPath;
        this.config = config;
        this.pool = config.pool();
        this.generation = generation;
        this.services = services;
        this.launcher = new ProcessLauncher(config, contextPath, warLocation);
        this.backoff = new RestartBackoff(config.rapidFailsPerMinute(), pool.backoffInitialDelay(),
                pool.backoffMaxDelay(), services.clock(), ThreadLocalRandom.current()::nextDouble);
    }

    // ---------------------------------------------------------------- choosing

    /**
     * A ready process for one request, or a future that completes when one is ready. Fails with
     * a {@link StartFailure} (no process could be started, or backoff holds starts back) or
     * {@link PoolSaturated} (maxQueuedRequests are waiting already).
     *
     * @param route the sticky-session cookie's value, or null
     * @param avoid a process that just failed this request: another is chosen if there is one
     */
    @Override
    public CompletableFuture<Backend> acquire(String route, Backend avoid) {
        lastActivityNanos = System.nanoTime();
        Backend chosen = Balancer.choose(ready, route, avoid, ThreadLocalRandom.current());
        if (chosen != null) {
            return CompletableFuture.completedFuture(chosen);
        }
        List<Runnable> after = new ArrayList<>();
        CompletableFuture<Backend> result;
        synchronized (this) {
            forgetDeadReady(after);
            chosen = Balancer.choose(ready, route, avoid, ThreadLocalRandom.current());
            if (chosen != null) {
                result = CompletableFuture.completedFuture(chosen);
            } else if (state == State.CLOSED) {
                result = CompletableFuture.failedFuture(new StartFailure(sm.getString("pool.stopping", appName), "", null));
            } else {
                // STOPPING is on its way to IDLE (idleTimeout, an operator's stop): the request waits for the next start
                result = enqueue(after);
            }
        }
        after.forEach(BackendPool::runQuietly);
        return result;
    }

    /** Lock held, no ready process. */
    private CompletableFuture<Backend> enqueue(List<Runnable> after) {
        activate();
        Instant next = backoff.nextAttemptAt();
        if (next != null && !anyStarting()) {
            return CompletableFuture.failedFuture(backingOff(next));
        }
        if (pool.maxQueuedRequests() > 0 && waiters.size() >= pool.maxQueuedRequests()) {
            return CompletableFuture.failedFuture(new PoolSaturated(sm.getString("pool.saturated", appName,
                    String.valueOf(waiters.size()))));
        }
        CompletableFuture<Backend> waiter = new CompletableFuture<>();
        waiters.addLast(waiter);
        fill(after);
        return waiter;
    }

    /**
     * Completes when a request that failed on {@code failed} may be sent again: at once when
     * another process is ready, else when the failed one's exit is known (its successor is then
     * starting) or after {@code grace}.
     */
    @Override
    public CompletableFuture<Void> retryAfter(Backend failed, Duration grace) {
        for (BackendProcess candidate : ready) {
            if (candidate != failed && candidate.isAlive()) {
                return CompletableFuture.completedFuture(null);
            }
        }
        CompletableFuture<Void> noted = own(failed).onExit().thenAccept(process -> {
            List<Runnable> after = new ArrayList<>();
            synchronized (this) {
                forgetDeadReady(after);
            }
            after.forEach(BackendPool::runQuietly);
        });
        // the valve's scheduler, not completeOnTimeout: that starts the JVM-wide delay thread, which
        // inherits the context class loader of whichever request thread first needs it
        try {
            ScheduledFuture<?> timer = services.scheduler().schedule(() -> noted.complete(null), grace.toMillis(),
                    TimeUnit.MILLISECONDS);
            noted.whenComplete((ignored, error) -> timer.cancel(false));
        } catch (RejectedExecutionException stopping) {
            noted.complete(null);
        }
        return noted;
    }

    // ---------------------------------------------------------------- what requests tell the pool

    @Override
    public void attemptStarted(Backend attempted) {
        BackendProcess backend = own(attempted);
        lastActivityNanos = System.nanoTime();
        long served = backend.requestStarted();
        if (pool.maxRequestsPerProcess() > 0 && served == pool.maxRequestsPerProcess()) {
            replace(backend, sm.getString("pool.reason.maxRequests", String.valueOf(served)), false);
        }
    }

    @Override
    public void attemptEnded(Backend backend) {
        own(backend).requestEnded();
        lastActivityNanos = System.nanoTime();
    }

    /** 502, 503 and 504 count as gateway failures, anything else clears them. */
    @Override
    public void answered(Backend backend, int status) {
        noteOutcome(own(backend), status == 502 || status == 503 || status == 504);
    }

    @Override
    public void failed(Backend backend) {
        noteOutcome(own(backend), true);
    }

    /** Every backend forwarding hands back is one this pool handed out. */
    private static BackendProcess own(Backend backend) {
        return (BackendProcess) backend;
    }

    private void noteOutcome(BackendProcess backend, boolean gatewayFailure) {
        int inARow = backend.noteOutcome(gatewayFailure);
        if (gatewayFailure && pool.maxConsecutiveFailures() > 0 && inARow == pool.maxConsecutiveFailures()
                && backend.isAlive()) {
            replace(backend, sm.getString("pool.reason.outlier", String.valueOf(inARow)), true);
        }
    }

    // ---------------------------------------------------------------- starting

    /** Lock held. */
    private void activate() {
        if (state == State.IDLE) {
            state = State.ACTIVE;
            if (pool.idleTimeout().compareTo(Duration.ZERO) > 0 || pool.memoryLimitBytes() > 0 || pool.healthCheckInterval().compareTo(Duration.ZERO) > 0) {
                maintenance = services.scheduler().scheduleWithFixedDelay(this::maintainQuietly, MAINTENANCE_MILLIS,
                        MAINTENANCE_MILLIS, TimeUnit.MILLISECONDS);
            }
        }
    }

    /**
     * Starts the app's processes without a request (preloadEnabled, or a recycle's new
     * generation). Completes when every first process is ready or has failed: normally when at
     * least one is ready, exceptionally with the start failure when none is.
     */
    public CompletableFuture<Void> warmUp() {
        List<Runnable> after = new ArrayList<>();
        CompletableFuture<Void> result;
        synchronized (this) {
            if (state == State.STOPPING || state == State.CLOSED) {
                return CompletableFuture.failedFuture(new StartFailure(sm.getString("pool.stopping", appName), "", null));
            }
            activate();
            if (warmUp == null || warmUp.isCompletedExceptionally()) {
                warmUp = new CompletableFuture<>();
                warmUpSettled = false;
                owed = Math.max(owed, pool.processes() - live());
                fill(after);
                settleWarmUp();
            }
            result = warmUp;
        }
        after.forEach(BackendPool::runQuietly);
        return result;
    }

    /** Lock held: launches processes until the pool has its size, as far as anyone needs them and backoff allows. */
    private void fill(List<Runnable> after) {
        if (state != State.ACTIVE) {
            return;
        }
        while (live() < pool.processes() && (!waiters.isEmpty() || owed > 0 || ready.length > 0)) {
            Instant next = backoff.nextAttemptAt();
            if (next != null) {
                if (delayedFill == null) {
                    long wait = Math.max(1, Duration.between(services.clock().instant(), next).toMillis());
                    delayedFill = services.scheduler().schedule(this::delayedFill, wait, TimeUnit.MILLISECONDS);
                    Duration delay = Duration.ofMillis(wait);
                    int failures = backoff.failuresInLastMinute();
                    log.warn(sm.getString("pool.backoff", appName, String.valueOf(wait), String.valueOf(failures)));
                    after.add(() -> services.events().backoffScheduled(appName, delay, next, failures));
                }
                return;
            }
            owed = Math.max(0, owed - 1);
            CompletableFuture<Void> launch = new CompletableFuture<>();
            launches.add(launch);
            after.add(() -> launchOne(launch));
        }
    }

    private void delayedFill() {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            delayedFill = null;
            fill(after);
        }
        after.forEach(BackendPool::runQuietly);
    }

    /** Lock held: processes starting, ready and being launched, less those being replaced. */
    private int live() {
        int count = launches.size();
        for (BackendProcess member : members) {
            if (!member.isRetiring()) {
                count++;
            }
        }
        return count;
    }

    private boolean anyStarting() {
        if (!launches.isEmpty()) {
            return true;
        }
        for (BackendProcess member : members) {
            if (member.state() == BackendProcess.State.STARTING) {
                return true;
            }
        }
        return false;
    }

    /** Runs on a valve thread, without the lock: the hooks, the port, the process. */
    private void launchOne(CompletableFuture<Void> launch) {
        try {
            services.blockingExecutor().execute(() -> {
                LaunchFailure failure = null;
                try {
                    failure = launchNow();
                } catch (RuntimeException e) {
                    failure = new LaunchFailure(new StartFailure(sm.getString("pool.launchFailed", appName,
                            String.join(" ", launcher.command()), config.appDirectory(), e.toString()), "", null), false);
                } finally {
                    finishLaunch(launch);
                }
                if (failure != null) {
                    // after the launch is counted out, so that the next attempt is not held back by this one
                    startFailed(null, failure.failure(), failure.vetoed());
                }
            });
        } catch (RejectedExecutionException stopping) {
            finishLaunch(launch);
        }
    }

    private record LaunchFailure(StartFailure failure, boolean vetoed) {
    }

    /** @return null when the process was started */
    private LaunchFailure launchNow() {
        String token = HexFormat.of().formatHex(randomBytes(24));
        List<String> arguments = new ArrayList<>();
        Map<String, String> environment = new LinkedHashMap<>();
        try {
            services.events().processStarting(appName, generation, arguments, environment);
        } catch (HostingEvents.StartVetoed vetoed) {
            return new LaunchFailure(new StartFailure(sm.getString("pool.vetoed", appName, vetoed.getMessage()), "",
                    null), true);
        }
        String route = HexFormat.of().formatHex(randomBytes(8));
        BackendAddress address;
        Process process;
        try {
            address = config.transport() == BackendTransport.UNIX ? BackendAddress.unix(services.sockets().socketFor(route))
                    : BackendAddress.tcp(freeLoopbackPort());
            process = launcher.start(address, token, arguments, environment);
        } catch (IOException e) {
            return new LaunchFailure(new StartFailure(sm.getString("pool.launchFailed", appName,
                    String.join(" ", launcher.command()), config.appDirectory(), e.getMessage()), "", null), false);
        }
        services.registry().add(process.toHandle(), appName);
        OutputCapture output = OutputCapture.start(process.getInputStream(), config, process.pid(), appName,
                services.outputThreads());
        BackendProcess backend = new BackendProcess(process, address, token, output, generation, route);
        boolean keep;
        synchronized (this) {
            keep = state == State.ACTIVE;
            if (keep) {
                starts++;
                members.add(backend);
            } else {
                backend.state(BackendProcess.State.STOPPED);
            }
        }
        // off the JDK's process reaper thread: onExit waits briefly for the output pipe to drain
        backend.onExit().whenCompleteAsync((p, x) -> onExit(backend), services.blockingExecutor());
        if (!keep) {
            // stopped while it was being launched
            ProcessTree.of(process.toHandle()).killNow();
            return null;
        }
        log.info(sm.getString("pool.launched", appName, String.valueOf(process.pid()), address.toString(),
                String.valueOf(generation)));
        long deadline = System.nanoTime() + config.startupTimeLimit().toNanos();
        services.scheduler().execute(() -> probe(backend, deadline, 1));
        return null;
    }

    private void finishLaunch(CompletableFuture<Void> launch) {
        synchronized (this) {
            launches.remove(launch);
            settleWarmUp();
        }
        launch.complete(null);
    }

    private static byte[] randomBytes(int count) {
        byte[] bytes = new byte[count];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    // ---------------------------------------------------------------- readiness

    /** The longest wait between two readiness probes of a starting process. */
    static final long PROBE_INTERVAL_MAX_MILLIS = 4;

    /**
     * Readiness: readinessPath answers 2xx, or without one the port accepts a connection.
     * Polled from 1 ms up to {@value #PROBE_INTERVAL_MAX_MILLIS} ms apart, so that the process
     * is in service within a few milliseconds of being able to answer (a refused probe on
     * loopback costs microseconds); a child that exits fails the start at once (its exit does).
     */
    private void probe(BackendProcess backend, long deadline, long delayMillis) {
        try {
            if (backend.state() != BackendProcess.State.STARTING || !backend.isAlive()) {
                return; // onExit takes it from here
            }
            if (System.nanoTime() - deadline >= 0) {
                startTimedOut(backend);
                return;
            }
            long next = Math.min(delayMillis * 2, PROBE_INTERVAL_MAX_MILLIS);
            Runnable again = () -> services.scheduler().schedule(() -> probe(backend, deadline, next), delayMillis,
                    TimeUnit.MILLISECONDS);
            if (pool.readinessPath() == null) {
                if (backend.address().accepts(250)) {
                    becameReady(backend);
                } else {
                    again.run();
                }
                return;
            }
            long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            Duration timeout = Duration.ofMillis(Math.min(PROBE_TIMEOUT.toMillis(), left));
            services.httpProbe().get(backend.address(), contextPath + pool.readinessPath(), backend.token(), timeout)
                    .whenComplete((status, error) -> {
                        if (error == null && status >= 200 && status < 300) {
                            becameReady(backend);
                        } else {
                            rescheduleQuietly(again);
                        }
                    });
        } catch (RejectedExecutionException stopping) {
            // the valve is stopping: so is this pool
        } catch (Throwable t) {
            // a probe that died silently would leave every waiting request parked for good
            startFailed(backend, new StartFailure(sm.getString("pool.probeFailed", appName, backend, t.toString()),
                    backend.output().tail(), backend.output().logFile()), false);
            killQuietly(backend);
        }
    }

    private static void rescheduleQuietly(Runnable again) {
        try {
            again.run();
        } catch (RejectedExecutionException stopping) {
            // the valve is stopping
        }
    }

    private void becameReady(BackendProcess backend) {
        List<Runnable> after = new ArrayList<>();
        List<CompletableFuture<Backend>> served;
        BackendProcess[] nowReady;
        synchronized (this) {
            if (backend.state() != BackendProcess.State.STARTING || !members.contains(backend)) {
                return;
            }
            backend.state(BackendProcess.State.READY);
            failedAttempts = 0;
            publishReady();
            retireOneReplaced(after);
            served = new ArrayList<>(waiters);
            waiters.clear();
            nowReady = ready;
            settleWarmUp();
        }
        Duration took = Duration.between(backend.started(), Instant.now());
        log.info(sm.getString("pool.ready", appName, backend, String.valueOf(took.toMillis()),
                pool.readinessPath() == null ? "" : " " + pool.readinessPath()));
        runQuietly(() -> services.events().processReady(appName, generation, backend.pid(), backend.address().port(), took));
        for (CompletableFuture<Backend> waiter : served) {
            Backend chosen = Balancer.choose(nowReady, null, null, ThreadLocalRandom.current());
            waiter.complete(chosen != null ? chosen : backend);
        }
        after.forEach(BackendPool::runQuietly);
    }

    private void startTimedOut(BackendProcess backend) {
        startFailed(backend, new StartFailure(sm.getString("pool.startTimeout", appName, backend,
                String.valueOf(config.startupTimeLimit().toSeconds()), pool.readinessPath() == null
                        ? sm.getString("pool.listen") : sm.getString("pool.answer", pool.readinessPath())),
                backend.output().tail(), backend.output().logFile()), true);
        killQuietly(backend);
    }

    /**
     * A start that failed: counted for backoff; waiting requests are answered 502.5 once they
     * have seen {@value #START_ATTEMPTS_PER_WAIT} attempts fail or backoff holds the next one
     * back, else the next attempt is made at once.
     *
     * @param backend the process that failed, or null when none was started
     * @param tellWaitersNow a hook refused the start, or it used up startupTimeLimit: waiting
     *        requests are answered at once (backoff still counts it, so that a hook refusing
     *        every start cannot make a busy loop of them)
     */
    private void startFailed(BackendProcess backend, StartFailure failure, boolean tellWaitersNow) {
        List<Runnable> after = new ArrayList<>();
        List<CompletableFuture<Backend>> failedWaiters = List.of();
        StartFailure told = failure;
        boolean retried;
        synchronized (this) {
            if (backend != null) {
                if (!members.remove(backend)) {
                    return; // already handled: a timeout and the exit it causes, or a stop
                }
                backend.failed(failure.getMessage());
                backend.state(BackendProcess.State.STOPPED);
            }
            lastStartFailure = failure;
            lastFailure = new AppStatus.Failure(Instant.now(), failure.getMessage());
            Duration delay = backoff.recordFailure();
            failedAttempts++;
            if (!waiters.isEmpty() && (tellWaitersNow || failedAttempts >= START_ATTEMPTS_PER_WAIT || !delay.isZero())) {
                Instant next = backoff.nextAttemptAt();
                told = next == null ? failure : withNextAttempt(failure, next);
                failedWaiters = new ArrayList<>(waiters);
                waiters.clear();
                failedAttempts = 0;
            }
            int launching = launches.size();
            fill(after);
            retried = failedWaiters.isEmpty() && launches.size() > launching;
            settleWarmUp();
        }
        String logged = failure.getMessage() + (failure.outputTail().isEmpty() ? ""
                : System.lineSeparator() + lastLines(failure.outputTail(), 20));
        if (retried) {
            // the next attempt is already on its way (a port taken meanwhile is the usual cause): not yet an error
            log.warn(logged + System.lineSeparator() + sm.getString("pool.retrying"));
        } else {
            log.error(logged);
        }
        long pid = backend == null ? -1 : backend.pid();
        runQuietly(() -> services.events().startFailed(appName, generation, failure.getMessage(), failure.outputTail()));
        for (CompletableFuture<Backend> waiter : failedWaiters) {
            waiter.completeExceptionally(told);
        }
        after.forEach(BackendPool::runQuietly);
        if (log.isDebugEnabled()) {
            log.debug("start failure of pid " + pid + " handled");
        }
    }

    private StartFailure withNextAttempt(StartFailure failure, Instant next) {
        return new StartFailure(failure.getMessage() + " " + sm.getString("pool.nextAttempt", clockTime(next)),
                failure.outputTail(), failure.logFile());
    }

    /** Lock held: a request that finds nothing starting while backoff holds starts back. */
    private StartFailure backingOff(Instant next) {
        StartFailure last = lastStartFailure;
        String message = sm.getString("pool.backingOff", appName, String.valueOf(backoff.failuresInLastMinute()),
                clockTime(next), String.valueOf(config.rapidFailsPerMinute()));
        return new StartFailure(last == null ? message : message + " " + last.getMessage(),
                last == null ? "" : last.outputTail(), last == null ? null : last.logFile());
    }

    private static String clockTime(Instant instant) {
        return LocalTime.ofInstant(instant, ZoneId.systemDefault()).truncatedTo(ChronoUnit.MILLIS).toString();
    }

    /**
     * Lock held: completes the warm-up once no first process is still on its way — on another
     * thread, since whoever waits for it (a recycle switching over) takes locks of its own.
     */
    private void settleWarmUp() {
        if (warmUp == null || warmUpSettled || anyStarting()
                || owed > 0 && state == State.ACTIVE && backoff.nextAttemptAt() == null) {
            return;
        }
        warmUpSettled = true;
        CompletableFuture<Void> settled = warmUp;
        StartFailure failure = ready.length > 0 ? null : lastStartFailure != null ? lastStartFailure
                : new StartFailure(sm.getString("pool.stopping", appName), "", null);
        runAsync(() -> {
            if (failure == null) {
                settled.complete(null);
            } else {
                settled.completeExceptionally(failure);
            }
        });
    }

    // ---------------------------------------------------------------- exits, replacement

    private void onExit(BackendProcess backend) {
        services.registry().remove(backend.process().toHandle());
        // a process that died leaves its socket behind; nothing will ever listen there again
        SocketDirectory.remove(backend.address());
        backend.output().awaitEnd(500);
        int exitCode = backend.process().exitValue();
        boolean starting = backend.state() == BackendProcess.State.STARTING;
        if (starting) {
            startFailed(backend, new StartFailure(sm.getString("pool.exitedDuringStart", appName, backend,
                    String.valueOf(exitCode), pool.readinessPath() == null ? sm.getString("pool.listen")
                            : sm.getString("pool.answer", pool.readinessPath())),
                    backend.output().tail(), backend.output().logFile()), false);
            runQuietly(() -> services.events().processExited(appName, generation, backend.pid(), exitCode, true,
                    backend.output().tail()));
            return;
        }
        List<Runnable> after = new ArrayList<>();
        boolean crashed;
        synchronized (this) {
            crashed = crashed(backend, Integer.toString(exitCode), after);
            if (!crashed) {
                leaving.remove(backend);
            }
        }
        runQuietly(() -> services.events().processExited(appName, generation, backend.pid(), exitCode, crashed,
                backend.output().tail()));
        after.forEach(BackendPool::runQuietly);
    }

    /** Lock held: ready processes that have exited, before their exit notification arrives, are crashes now. */
    private void forgetDeadReady(List<Runnable> after) {
        for (BackendProcess member : List.copyOf(members)) {
            if (member.state() == BackendProcess.State.READY && !member.isAlive()) {
                crashed(member, "(not yet known)", after);
            }
        }
    }

    /** Lock held. @return true when {@code backend} was serving and nobody asked it to stop */
    private boolean crashed(BackendProcess backend, String exitCode, List<Runnable> after) {
        if (backend.state() != BackendProcess.State.READY || !members.remove(backend)) {
            return false;
        }
        backend.state(BackendProcess.State.STOPPED);
        crashes++;
        String tail = backend.output().tail();
        String message = sm.getString("pool.crashed", appName, backend, exitCode);
        backend.failed(message);
        lastFailure = new AppStatus.Failure(Instant.now(), message);
        publishReady();
        backoff.recordFailure();
        if (!backend.isRetiring()) {
            owed++;
        }
        fill(after);
        log.warn(message + " " + sm.getString("pool.lastOutput") + System.lineSeparator()
                + (tail.isEmpty() ? sm.getString("pool.printedNothing") : lastLines(tail, 20)));
        return true;
    }

    /**
     * Takes {@code backend} out of service: an outlier or a failed health check at once
     * ({@code now}), a process past its limits once its replacement is ready.
     */
    private void replace(BackendProcess backend, String reason, boolean now) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            if (!members.contains(backend) || backend.state() != BackendProcess.State.READY || backend.isRetiring()
                    || state != State.ACTIVE) {
                return;
            }
            log.info(sm.getString(now ? "pool.ejecting" : "pool.retiring", appName, backend, reason));
            backend.failed(reason);
            backend.retire();
            owed++;
            if (now) {
                leave(backend, BackendProcess.State.EJECTED, after);
            }
            fill(after);
        }
        after.forEach(BackendPool::runQuietly);
    }

    /** Lock held: the first process waiting for its replacement leaves, now that one is ready. */
    private void retireOneReplaced(List<Runnable> after) {
        for (BackendProcess member : members) {
            if (member.isRetiring() && member.state() == BackendProcess.State.READY) {
                leave(member, BackendProcess.State.DRAINING, after);
                return;
            }
        }
    }

    /** Lock held: out of rotation now; drained and stopped on a valve thread. */
    private void leave(BackendProcess backend, BackendProcess.State how, List<Runnable> after) {
        members.remove(backend);
        backend.state(how);
        leaving.add(backend);
        publishReady();
        after.add(() -> services.blockingExecutor().execute(() ->
                backend.drainAndStop(appName, contextPath, config.shutdownTimeLimit(), config.shutdownTimeLimit(),
                        services.httpProbe())));
    }

    /** Lock held. */
    private void publishReady() {
        List<BackendProcess> now = new ArrayList<>();
        for (BackendProcess member : members) {
            if (member.state() == BackendProcess.State.READY) {
                now.add(member);
            }
        }
        ready = now.toArray(BackendProcess[]::new);
    }

    // ---------------------------------------------------------------- maintenance

    private void maintainQuietly() {
        try {
            maintain();
        } catch (Throwable t) {
            // a periodic task that throws is never run again
            log.error(sm.getString("pool.maintenanceFailed", appName), t);
        }
    }

    private void maintain() {
        List<BackendProcess> check;
        synchronized (this) {
            if (state != State.ACTIVE) {
                return;
            }
            if (idleTooLong()) {
                log.info(sm.getString("pool.idle", appName, String.valueOf(pool.idleTimeout().toSeconds())));
                stopMembers(State.IDLE, config.shutdownTimeLimit());
                return;
            }
            check = List.copyOf(members);
        }
        for (BackendProcess backend : check) {
            if (backend.state() != BackendProcess.State.READY || backend.isRetiring()) {
                continue;
            }
            if (pool.memoryLimitBytes() > 0) {
                long resident = backend.residentBytes();
                if (resident > pool.memoryLimitBytes()) {
                    replace(backend, sm.getString("pool.reason.memory", String.valueOf(resident >> 20),
                            String.valueOf(pool.memoryLimitBytes() >> 20)), false);
                }
            }
        }
        if (pool.healthCheckInterval().compareTo(Duration.ZERO) > 0
                && System.nanoTime() - lastHealthCheckNanos >= pool.healthCheckInterval().toNanos()) {
            lastHealthCheckNanos = System.nanoTime();
            for (BackendProcess backend : check) {
                if (backend.state() == BackendProcess.State.READY) {
                    healthCheck(backend);
                }
            }
        }
    }

    /** Lock held. */
    private boolean idleTooLong() {
        if (pool.idleTimeout().isZero() || !waiters.isEmpty() || !launches.isEmpty()) {
            return false;
        }
        for (BackendProcess member : members) {
            if (member.inFlight() > 0 || member.state() == BackendProcess.State.STARTING) {
                return false;
            }
        }
        return System.nanoTime() - lastActivityNanos >= pool.idleTimeout().toNanos();
    }

    private void healthCheck(BackendProcess backend) {
        CompletableFuture<Boolean> passed = pool.readinessPath() == null
                ? CompletableFuture.supplyAsync(() -> backend.address().accepts(250), services.blockingExecutor())
                : services.httpProbe().get(backend.address(), contextPath + pool.readinessPath(), backend.token(),
                        PROBE_TIMEOUT).handle((status, error) -> error == null && status >= 200 && status < 300);
        passed.thenAccept(ok -> {
            int failedInARow;
            synchronized (this) {
                failedInARow = backend.noteHealthCheck(ok);
            }
            if (failedInARow == FAILED_CHECKS_TO_EJECT && backend.isAlive()) {
                replace(backend, sm.getString("pool.reason.health", String.valueOf(failedInARow),
                        pool.readinessPath() == null ? sm.getString("pool.listen")
                                : sm.getString("pool.answer", pool.readinessPath())), true);
            }
        });
    }

    // ---------------------------------------------------------------- stopping

    /**
     * Drains the requests in flight on every process (up to shutdownTimeLimit), then stops the
     * processes: the shutdown request, SIGTERM, and after shutdownTimeLimit SIGKILL to each tree.
     *
     * @param permanently true when the app (this generation) goes away; false when it may start again later
     */
    public CompletableFuture<Void> stop(boolean permanently) {
        return stop(permanently, config.shutdownTimeLimit());
    }

    /** {@link #stop(boolean)}, waiting at most {@code drainLimit} for the requests in flight (the rest of a drain begun above). */
    public CompletableFuture<Void> stop(boolean permanently, Duration drainLimit) {
        CompletableFuture<Void> stopped;
        synchronized (this) {
            if (state == State.CLOSED) {
                return CompletableFuture.completedFuture(null);
            }
            stopped = stopMembers(permanently ? State.CLOSED : State.IDLE, drainLimit);
            if (permanently) {
                state = State.CLOSED;
            }
        }
        return stopped;
    }

    /** Lock held: every process leaves; the pool is {@code then} once they have stopped. */
    private CompletableFuture<Void> stopMembers(State then, Duration drainLimit) {
        state = State.STOPPING;
        if (delayedFill != null) {
            delayedFill.cancel(false);
            delayedFill = null;
        }
        if (maintenance != null) {
            maintenance.cancel(false);
            maintenance = null;
        }
        owed = 0;
        if (warmUp != null && !warmUpSettled) {
            CompletableFuture<Void> abandoned = warmUp;
            StartFailure stopping = new StartFailure(sm.getString("pool.stopping", appName), "", null);
            runAsync(() -> abandoned.completeExceptionally(stopping));
        }
        warmUp = null;
        List<BackendProcess> stopping = new ArrayList<>(members);
        stopping.addAll(leaving);
        members.clear();
        leaving.clear();
        publishReady();
        List<CompletableFuture<Backend>> abandoned = new ArrayList<>(waiters);
        waiters.clear();
        StartFailure stoppingFailure = new StartFailure(sm.getString("pool.stopping", appName), "", null);
        abandoned.forEach(waiter -> waiter.completeExceptionally(stoppingFailure));
        List<CompletableFuture<Void>> done = new ArrayList<>(launches);
        for (BackendProcess backend : stopping) {
            backend.state(backend.state() == BackendProcess.State.STOPPED ? BackendProcess.State.STOPPED
                    : BackendProcess.State.DRAINING);
            done.add(runAsync(() -> backend.drainAndStop(appName, contextPath, drainLimit, config.shutdownTimeLimit(),
                    services.httpProbe())));
        }
        return CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
            List<Runnable> after = new ArrayList<>();
            synchronized (this) {
                if (state == State.STOPPING) {
                    state = then;
                    if (!waiters.isEmpty()) {
                        // requests came while the processes stopped: they start the next ones
                        activate();
                        fill(after);
                    }
                }
            }
            after.forEach(BackendPool::runQuietly);
        });
    }

    private CompletableFuture<Void> runAsync(Runnable task) {
        try {
            return CompletableFuture.runAsync(task, services.blockingExecutor());
        } catch (RejectedExecutionException stopping) {
            task.run();
            return CompletableFuture.completedFuture(null);
        }
    }

    private void killQuietly(BackendProcess backend) {
        try {
            services.blockingExecutor().execute(() -> ProcessTree.of(backend.process().toHandle()).killNow());
        } catch (RejectedExecutionException stopping) {
            ProcessTree.of(backend.process().toHandle()).killNow();
        }
    }

    private static void runQuietly(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            log.warn(sm.getString("pool.eventFailed", e.toString()), e);
        }
    }

    // ---------------------------------------------------------------- what operators see

    /** True when at least one process is ready to take requests. */
    public boolean isServing() {
        return ready.length > 0;
    }

    public synchronized State state() {
        return state;
    }

    /** The state as operators read it: idle, starting, running, backoff, failed, stopping or stopped. */
    public synchronized String stateName() {
        return switch (state) {
            case IDLE -> "idle";
            case STOPPING -> "stopping";
            case CLOSED -> "stopped";
            case ACTIVE -> ready.length > 0 ? "running" : anyStarting() ? "starting"
                    : backoff.nextAttemptAt() != null ? "backoff" : "failed";
        };
    }

    public AppStatus status(String description) {
        List<BackendProcess> all;
        String state;
        int startCount;
        int crashCount;
        AppStatus.Failure failure;
        synchronized (this) {
            all = new ArrayList<>(members);
            all.addAll(leaving);
            state = stateName();
            startCount = starts;
            crashCount = crashes;
            failure = lastFailure;
        }
        // read outside the lock: each process's status reads its memory from /proc
        List<AppStatus.ProcessStatus> processes = new ArrayList<>();
        int inFlight = 0;
        Path stdoutLog = null;
        for (BackendProcess process : all) {
            processes.add(process.status());
            inFlight += process.inFlight();
            // the file being written (the prefix is no file): the newest member's, which a rotation keeps the name of
            if (process.output().logFile() != null && process.state() != BackendProcess.State.DRAINING
                    && process.state() != BackendProcess.State.EJECTED) {
                stdoutLog = process.output().logFile();
            }
        }
        return new AppStatus("outOfProcess", state, description, generation, startCount, crashCount, inFlight, failure,
                backoff.nextAttemptAt(), stdoutLog, processes, null);
    }

    public AppConfig config() {
        return config;
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

    @Override
    public String toString() {
        return appName + " generation " + generation + " (" + state.name().toLowerCase(Locale.ROOT) + ")";
    }
}
