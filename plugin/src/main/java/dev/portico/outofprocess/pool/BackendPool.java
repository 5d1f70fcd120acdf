package dev.portico.outofprocess.pool;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.AppConfig;
import dev.portico.config.PoolConfig;
import dev.portico.hooks.api.BackoffScheduled;
import dev.portico.hosting.AppStatus;
import dev.portico.hosting.StartFailure;
import dev.portico.outofprocess.backend.Backend;
import dev.portico.outofprocess.backend.Backends;
import dev.portico.outofprocess.process.BackendProcess;

/**
 * The processes of one out-of-process app (one generation of it): membership and sizing —
 * keeping processesPerApplication of them ready, as far as anyone needs them. Forwarding sees it
 * only as {@link Backends} ({@link BalancingBackends}). What it decides with, each its own class:
 * who is in it and what each one's life does to it ({@link Members}), which ready process takes
 * a request ({@link Balancer}), the requests waiting for one ({@link Admission}), starting and
 * probing one ({@link ProcessStarter}), failed starts and backoff ({@link StartFailures}), active
 * and passive health checks ({@link HealthChecks}, {@link OutlierDetection}), the periodic checks
 * ({@link Maintenance}), what operators see ({@link PoolStatus}).
 *
 * <pre>
 *   IDLE ──first request, preload──▶ ACTIVE ──idleTimeout──▶ IDLE
 *                                      └──stop──▶ STOPPING ──▶ IDLE, or CLOSED for good
 * </pre>
 *
 * While ACTIVE the pool keeps its size: a process that crashes, fails its health checks, keeps
 * failing at the gateway, outgrows memoryLimit or has served maxRequestsPerProcess is replaced —
 * the last two only once the replacement is ready (rolling). A start is made when someone needs
 * it: a request waiting, a replacement owed, or a pool that already has a ready process to fill
 * up to size; a broken app nobody asks for is not restarted in a loop.
 *
 * <p>Locking: this object's monitor guards the members, the waiting requests and the start
 * failures. Nothing slow runs under it: launches (and the processStarting hooks), stops and
 * events run after it is released ({@code after} lists), on the valve's threads.
 */
public final class BackendPool {

    /** Where the pool as a whole stands. */
    enum State { IDLE, ACTIVE, STOPPING, CLOSED }

    private static final Log log = LogFactory.getLog(BackendPool.class);
    private static final StringManager sm = StringManager.getManager(BackendPool.class);
    private static final long MAINTENANCE_MILLIS = 1000;

    private final PoolContext context;
    private final PoolConfig pool;
    private final ProcessStarter starter;
    private final Members members;
    private final Maintenance maintenance;
    private final BalancingBackends backends;
    private volatile long lastActivityNanos = System.nanoTime();
    private State state = State.IDLE;
    private CompletableFuture<Void> warmUp;
    private boolean warmUpSettled;
    private ScheduledFuture<?> delayedFill;
    private ScheduledFuture<?> maintaining;

    public BackendPool(String appName, String contextPath, AppConfig config, Path warLocation, long generation,
            PoolServices services) {
        this.context = new PoolContext(appName, contextPath, config, generation, services,
                new StartFailures(appName, config, services.clock()), new Admission(appName, config.pool().maxQueuedRequests()));
        this.pool = config.pool();
        this.members = new Members(this, context);
        this.starter = new ProcessStarter(context, members, warLocation);
        this.maintenance = new Maintenance(this, context, starter);
        this.backends = new BalancingBackends(this, pool, services.scheduler());
    }

    // ---------------------------------------------------------------- what forwarding reaches

    /** The pool as forwarding sees it. */
    public Backends backends() {
        return backends;
    }

    BackendProcess[] ready() {
        return members.ready();
    }

    /** A request came or went: idleTimeout counts from the last. */
    void active() {
        lastActivityNanos = System.nanoTime();
    }

    /** No process was ready: the request waits for one (and starts it), or is told why it cannot. */
    CompletableFuture<Backend> await(String route, Backend avoid) {
        List<Runnable> after = new ArrayList<>();
        CompletableFuture<Backend> result;
        synchronized (this) {
            members.forgetDeadReady(after);
            Backend chosen = Balancer.choose(members.ready(), route, avoid, ThreadLocalRandom.current());
            if (chosen != null) {
                result = CompletableFuture.completedFuture(chosen);
            } else if (state == State.CLOSED) {
                result = CompletableFuture.failedFuture(stopping());
            } else {
                // STOPPING is on its way to IDLE (idleTimeout, an operator's stop): the request waits for the next start
                activate();
                Instant next = context.startFailures().nextAttemptAt();
                if (next != null && !members.anyStarting()) {
                    result = CompletableFuture.failedFuture(context.startFailures().backingOff(next));
                } else {
                    result = context.admission().enqueue();
                    fill(after);
                }
            }
        }
        after.forEach(PoolServices::runQuietly);
        return result;
    }

    void forgetDeadReady() {
        members.forgetDeadReady();
    }

    /** Takes a ready process out of service: at once ({@code now}: an outlier, failed health checks) or once replaced. */
    void replace(BackendProcess backend, String reason, boolean now) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            if (state == State.ACTIVE && members.retire(backend, reason, now, after)) {
                fill(after);
            }
        }
        after.forEach(PoolServices::runQuietly);
    }

    /** A process left: the per-process records of the checks go with it. */
    void forget(BackendProcess backend) {
        backends.forget(backend);
        maintenance.forget(backend);
    }

    // ---------------------------------------------------------------- sizing

    /** Lock held. */
    boolean isActive() {
        return state == State.ACTIVE;
    }

    /** Lock held. */
    private void activate() {
        if (state == State.IDLE) {
            state = State.ACTIVE;
            if (maintenance.needed()) {
                maintaining = context.services().scheduler().scheduleWithFixedDelay(maintenance::run,
                        MAINTENANCE_MILLIS, MAINTENANCE_MILLIS, TimeUnit.MILLISECONDS);
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
                return CompletableFuture.failedFuture(stopping());
            }
            activate();
            if (warmUp == null || warmUp.isCompletedExceptionally()) {
                warmUp = new CompletableFuture<>();
                warmUpSettled = false;
                members.owed = Math.max(members.owed, pool.processes() - members.live());
                fill(after);
                settleWarmUp();
            }
            result = warmUp;
        }
        after.forEach(PoolServices::runQuietly);
        return result;
    }

    /** Lock held: launches processes until the pool has its size, as far as anyone needs them and backoff allows. */
    void fill(List<Runnable> after) {
        if (state != State.ACTIVE) {
            return;
        }
        while (members.live() < pool.processes()
                && (!context.admission().isEmpty() || members.owed > 0 || members.ready().length > 0)) {
            Instant next = context.startFailures().nextAttemptAt();
            if (next != null) {
                scheduleDelayedFill(next, after);
                return;
            }
            members.owed = Math.max(0, members.owed - 1);
            CompletableFuture<Void> launch = members.newLaunch();
            after.add(() -> starter.launch(launch));
        }
    }

    /** Lock held: backoff holds the next start back until {@code next}. */
    private void scheduleDelayedFill(Instant next, List<Runnable> after) {
        if (delayedFill != null) {
            return;
        }
        PoolServices services = context.services();
        long wait = Math.max(1, Duration.between(services.clock().instant(), next).toMillis());
        delayedFill = services.scheduler().schedule(this::delayedFill, wait, TimeUnit.MILLISECONDS);
        int failures = context.startFailures().failuresInLastMinute();
        log.warn(sm.getString("pool.backoff", context.appName(), String.valueOf(wait), String.valueOf(failures)));
        after.add(() -> services.events().tell(new BackoffScheduled(context.appName(), Duration.ofMillis(wait), next, failures)));
    }

    private void delayedFill() {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            delayedFill = null;
            fill(after);
        }
        after.forEach(PoolServices::runQuietly);
    }

    /**
     * Lock held: completes the warm-up once no first process is still on its way — on another
     * thread, since whoever waits for it (a recycle switching over) takes locks of its own.
     */
    void settleWarmUp() {
        if (warmUp == null || warmUpSettled || members.anyStarting()
                || members.owed > 0 && state == State.ACTIVE && context.startFailures().nextAttemptAt() == null) {
            return;
        }
        warmUpSettled = true;
        CompletableFuture<Void> settled = warmUp;
        StartFailure last = context.startFailures().lastStart();
        StartFailure failure = members.ready().length > 0 ? null : last != null ? last : stopping();
        context.services().runAsync(() -> {
            if (failure == null) {
                settled.complete(null);
            } else {
                settled.completeExceptionally(failure);
            }
        });
    }

    private StartFailure stopping() {
        return new StartFailure(sm.getString("pool.stopping", context.appName()), "", null);
    }

    // ---------------------------------------------------------------- idleness and stopping

    /** Stops the processes when the pool has been idle for idleTimeout. @return true if it did */
    synchronized boolean stopIfIdle() {
        Duration idle = pool.idleTimeout();
        if (state != State.ACTIVE || idle.isZero() || !context.admission().isEmpty() || members.anyLaunching()
                || members.busy() || System.nanoTime() - lastActivityNanos < idle.toNanos()) {
            return false;
        }
        log.info(sm.getString("pool.idle", context.appName(), String.valueOf(idle.toSeconds())));
        stopMembers(State.IDLE, context.config().shutdownTimeLimit());
        return true;
    }

    /** The members to check, or null when the pool is not active (nothing to maintain). */
    synchronized List<BackendProcess> membersToMaintain() {
        return state == State.ACTIVE ? members.current() : null;
    }

    /**
     * Drains the requests in flight on every process (up to shutdownTimeLimit), then stops the
     * processes: the shutdown request, SIGTERM, and after shutdownTimeLimit SIGKILL to each tree.
     *
     * @param permanently true when the app (this generation) goes away; false when it may start again later
     */
    public CompletableFuture<Void> stop(boolean permanently) {
        return stop(permanently, context.config().shutdownTimeLimit());
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
        cancel(delayedFill);
        delayedFill = null;
        cancel(maintaining);
        maintaining = null;
        members.owed = 0;
        if (warmUp != null && !warmUpSettled) {
            CompletableFuture<Void> abandoned = warmUp;
            StartFailure stopping = stopping();
            context.services().runAsync(() -> abandoned.completeExceptionally(stopping));
        }
        warmUp = null;
        List<CompletableFuture<Void>> done = new ArrayList<>();
        List<BackendProcess> stopping = members.takeAll(done);
        StartFailure stoppingFailure = stopping();
        context.admission().takeAll().forEach(waiter -> waiter.completeExceptionally(stoppingFailure));
        AppConfig config = context.config();
        for (BackendProcess backend : stopping) {
            if (backend.state() != BackendProcess.State.STOPPED) {
                backend.state(BackendProcess.State.DRAINING);
            }
            done.add(context.services().runAsync(() -> backend.drainAndStop(context.appName(), context.contextPath(),
                    drainLimit, config.shutdownTimeLimit(), context.services().httpProbe())));
        }
        return CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> stopped(then));
    }

    private void stopped(State then) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            if (state == State.STOPPING) {
                state = then;
                if (!context.admission().isEmpty()) {
                    // requests came while the processes stopped: they start the next ones
                    activate();
                    fill(after);
                }
            }
        }
        after.forEach(PoolServices::runQuietly);
    }

    private static void cancel(ScheduledFuture<?> task) {
        if (task != null) {
            task.cancel(false);
        }
    }

    // ---------------------------------------------------------------- what operators see

    /** True when at least one process is ready to take requests. */
    public boolean isServing() {
        return members.ready().length > 0;
    }

    /** The state as operators read it: idle, starting, running, backoff, failed, stopping or stopped. */
    public synchronized String stateName() {
        return switch (state) {
            case IDLE -> "idle";
            case STOPPING -> "stopping";
            case CLOSED -> "stopped";
            case ACTIVE -> members.ready().length > 0 ? "running" : members.anyStarting() ? "starting"
                    : context.startFailures().nextAttemptAt() != null ? "backoff" : "failed";
        };
    }

    public AppStatus status(String description) {
        PoolStatus.Snapshot snapshot;
        synchronized (this) {
            snapshot = new PoolStatus.Snapshot(members.all(), stateName(), members.starts, members.crashes,
                    context.startFailures().last(), context.startFailures().nextAttemptAt());
        }
        return PoolStatus.of(snapshot, description, context.generation());
    }

    @Override
    public String toString() {
        return context.appName() + " generation " + context.generation() + " (" + state.name().toLowerCase(Locale.ROOT) + ")";
    }
}
