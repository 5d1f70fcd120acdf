package dev.portico.outofprocess.pool;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.hooks.api.ProcessExited;
import dev.portico.hooks.api.ProcessReady;
import dev.portico.hooks.api.StartFailed;
import dev.portico.hosting.StartFailure;
import dev.portico.outofprocess.backend.Backend;
import dev.portico.outofprocess.process.BackendProcess;
import dev.portico.outofprocess.process.OutputCapture;

/**
 * Who is in a pool, and what each member's life does to it: launched, ready (the waiting
 * requests get it), failed to start, crashed, replaced, leaving. Requests read the ready members
 * without a lock ({@link #ready} is a snapshot). Every change happens under the pool's monitor:
 * the methods entered from outside take it; the others say "pool lock held".
 */
final class Members {

    private static final Log log = LogFactory.getLog(Members.class);
    private static final StringManager sm = StringManager.getManager(Members.class);

    private final BackendPool pool;
    private final PoolContext context;
    private final List<BackendProcess> members = new ArrayList<>(); // STARTING and READY (retiring ones too)
    private final Set<BackendProcess> leaving = new LinkedHashSet<>(); // DRAINING and EJECTED, until stopped
    private final Set<CompletableFuture<Void>> launches = new LinkedHashSet<>();
    private volatile BackendProcess[] ready = new BackendProcess[0];
    /** Starts wanted for background reasons: crashes, ejections, retirements, warm-up. */
    int owed;
    int starts;
    int crashes;

    Members(BackendPool pool, PoolContext context) {
        this.pool = pool;
        this.context = context;
    }

    BackendProcess[] ready() {
        return ready;
    }

    // ---------------------------------------------------------------- counts (pool lock held)

    /** Processes starting, ready and being launched, less those being replaced. */
    int live() {
        int count = launches.size();
        for (BackendProcess member : members) {
            if (!member.isRetiring()) {
                count++;
            }
        }
        return count;
    }

    boolean anyStarting() {
        return !launches.isEmpty() || members.stream().anyMatch(m -> m.state() == BackendProcess.State.STARTING);
    }

    boolean anyLaunching() {
        return !launches.isEmpty();
    }

    /** A launch on its way, counted until {@link #launchFinished}. */
    CompletableFuture<Void> newLaunch() {
        CompletableFuture<Void> launch = new CompletableFuture<>();
        launches.add(launch);
        return launch;
    }

    boolean busy() {
        return members.stream().anyMatch(m -> m.inFlight() > 0 || m.state() == BackendProcess.State.STARTING);
    }

    List<BackendProcess> current() {
        return List.copyOf(members);
    }

    /** Members and leavers, for the status page. */
    List<BackendProcess> all() {
        List<BackendProcess> all = new ArrayList<>(members);
        all.addAll(leaving);
        return all;
    }

    /** Every member and leaver, taken out of the pool (it stops); and the launches still on their way. */
    List<BackendProcess> takeAll(List<CompletableFuture<Void>> launching) {
        List<BackendProcess> all = all();
        members.clear();
        leaving.clear();
        publish();
        launching.addAll(launches);
        return all;
    }

    // ---------------------------------------------------------------- what ProcessStarter reports

    /** @return false when the pool stopped meanwhile: the starter kills the process */
    boolean launched(BackendProcess backend) {
        synchronized (pool) {
            if (!pool.isActive()) {
                backend.state(BackendProcess.State.STOPPED);
                return false;
            }
            starts++;
            members.add(backend);
            return true;
        }
    }

    void launchFinished(CompletableFuture<Void> launch) {
        synchronized (pool) {
            launches.remove(launch);
            pool.settleWarmUp();
        }
        launch.complete(null);
    }

    void becameReady(BackendProcess backend) {
        List<Runnable> after = new ArrayList<>();
        List<CompletableFuture<Backend>> served;
        BackendProcess[] nowReady;
        synchronized (pool) {
            if (backend.state() != BackendProcess.State.STARTING || !members.contains(backend)) {
                return;
            }
            backend.state(BackendProcess.State.READY);
            context.startFailures().started();
            publish();
            retireOneReplaced(after);
            served = context.admission().takeAll();
            nowReady = ready;
            pool.settleWarmUp();
        }
        Duration took = Duration.between(backend.started(), Instant.now());
        String path = context.config().pool().readinessPath();
        log.info(sm.getString("pool.ready", context.appName(), backend, String.valueOf(took.toMillis()),
                path == null ? "" : " " + path));
        PoolServices.runQuietly(() -> context.services().events().tell(new ProcessReady(context.appName(), context.generation(),
                backend.pid(), backend.address().port(), took)));
        for (CompletableFuture<Backend> waiter : served) {
            Backend chosen = Balancer.choose(nowReady, null, null, ThreadLocalRandom.current());
            waiter.complete(chosen != null ? chosen : backend);
        }
        after.forEach(PoolServices::runQuietly);
    }

    /**
     * A start that failed: counted for backoff; waiting requests are answered 502.5 when
     * {@link StartFailures} says so, else the next attempt is made at once.
     *
     * @param backend the process that failed, or null when none was started
     * @param tellWaitersNow a hook refused the start, or it used up startupTimeLimit (backoff
     *        still counts it, so that a hook refusing every start cannot make a busy loop of them)
     */
    void startFailed(BackendProcess backend, StartFailure failure, boolean tellWaitersNow) {
        List<Runnable> after = new ArrayList<>();
        List<CompletableFuture<Backend>> toldWaiters = List.of();
        StartFailure told;
        boolean retried;
        synchronized (pool) {
            if (backend != null) {
                if (!members.remove(backend)) {
                    return; // already handled: a timeout and the exit it causes, or a stop
                }
                backend.failed(failure.getMessage());
                backend.state(BackendProcess.State.STOPPED);
            }
            told = context.startFailures().startFailed(failure, tellWaitersNow, !context.admission().isEmpty());
            if (told != null) {
                toldWaiters = context.admission().takeAll();
            }
            int launching = launches.size();
            pool.fill(after);
            retried = told == null && launches.size() > launching;
            pool.settleWarmUp();
        }
        logStartFailure(failure, retried);
        PoolServices.runQuietly(() -> context.services().events().tell(new StartFailed(context.appName(), context.generation(),
                failure.getMessage(), failure.outputTail())));
        for (CompletableFuture<Backend> waiter : toldWaiters) {
            waiter.completeExceptionally(told);
        }
        after.forEach(PoolServices::runQuietly);
    }

    private static void logStartFailure(StartFailure failure, boolean retried) {
        String logged = failure.getMessage() + (failure.outputTail().isEmpty() ? ""
                : System.lineSeparator() + OutputCapture.lastLines(failure.outputTail(), 20));
        if (retried) {
            // the next attempt is already on its way (a port taken meanwhile is the usual cause): not yet an error
            log.warn(logged + System.lineSeparator() + sm.getString("pool.retrying"));
        } else {
            log.error(logged);
        }
    }

    /** The process exited (on a valve thread, once its output has ended). */
    void exited(BackendProcess backend, String whatReadinessIs) {
        context.services().registry().remove(backend.handle());
        backend.awaitExitCleanUp();
        int exitCode = backend.exitCode();
        boolean crashed;
        if (backend.state() == BackendProcess.State.STARTING) {
            startFailed(backend, new StartFailure(sm.getString("pool.exitedDuringStart", context.appName(), backend,
                    String.valueOf(exitCode), whatReadinessIs), backend.output().tail(), backend.output().logFile()),
                    false);
            crashed = true;
        } else {
            List<Runnable> after = new ArrayList<>();
            synchronized (pool) {
                crashed = crashed(backend, Integer.toString(exitCode), after);
                if (!crashed) {
                    leaving.remove(backend);
                }
            }
            after.forEach(PoolServices::runQuietly);
        }
        boolean unasked = crashed;
        PoolServices.runQuietly(() -> context.services().events().tell(new ProcessExited(context.appName(),
                context.generation(), backend.pid(), exitCode, unasked, backend.output().tail())));
    }

    // ---------------------------------------------------------------- exits, replacement

    /** Ready processes that have exited, before their exit notification arrives, are crashes now. */
    void forgetDeadReady() {
        List<Runnable> after = new ArrayList<>();
        synchronized (pool) {
            forgetDeadReady(after);
        }
        after.forEach(PoolServices::runQuietly);
    }

    /** Pool lock held. */
    void forgetDeadReady(List<Runnable> after) {
        for (BackendProcess member : List.copyOf(members)) {
            if (member.state() == BackendProcess.State.READY && !member.isAlive()) {
                crashed(member, "(not yet known)", after);
            }
        }
    }

    /** Pool lock held. @return true when {@code backend} was serving and nobody asked it to stop */
    private boolean crashed(BackendProcess backend, String exitCode, List<Runnable> after) {
        if (backend.state() != BackendProcess.State.READY || !members.remove(backend)) {
            return false;
        }
        backend.state(BackendProcess.State.STOPPED);
        crashes++;
        String message = sm.getString("pool.crashed", context.appName(), backend, exitCode);
        backend.failed(message);
        context.startFailures().crashed(message);
        pool.forget(backend);
        publish();
        if (!backend.isRetiring()) {
            owed++;
        }
        pool.fill(after);
        String tail = backend.output().tail();
        log.warn(message + " " + sm.getString("pool.lastOutput") + System.lineSeparator()
                + (tail.isEmpty() ? sm.getString("pool.printedNothing") : OutputCapture.lastLines(tail, 20)));
        return true;
    }

    /**
     * Pool lock held: takes a ready member out of service — an outlier or a failed health check
     * at once ({@code now}), a process past its limits once its replacement is ready.
     * @return false when it is not a ready member that could be replaced
     */
    boolean retire(BackendProcess backend, String reason, boolean now, List<Runnable> after) {
        if (!members.contains(backend) || backend.state() != BackendProcess.State.READY || backend.isRetiring()) {
            return false;
        }
        log.info(sm.getString(now ? "pool.ejecting" : "pool.retiring", context.appName(), backend, reason));
        backend.failed(reason);
        backend.retire();
        owed++;
        if (now) {
            leave(backend, BackendProcess.State.EJECTED, after);
        }
        return true;
    }

    /** Pool lock held: the first process waiting for its replacement leaves, now that one is ready. */
    private void retireOneReplaced(List<Runnable> after) {
        for (BackendProcess member : members) {
            if (member.isRetiring() && member.state() == BackendProcess.State.READY) {
                leave(member, BackendProcess.State.DRAINING, after);
                return;
            }
        }
    }

    /** Pool lock held: out of rotation now; drained and stopped on a valve thread. */
    private void leave(BackendProcess backend, BackendProcess.State how, List<Runnable> after) {
        members.remove(backend);
        backend.state(how);
        leaving.add(backend);
        pool.forget(backend);
        publish();
        Duration limit = context.config().shutdownTimeLimit();
        PoolServices services = context.services();
        after.add(() -> services.blockingExecutor().execute(() ->
                backend.drainAndStop(context.appName(), context.contextPath(), limit, limit, services.httpProbe())));
    }

    /** Pool lock held. */
    private void publish() {
        ready = members.stream().filter(member -> member.state() == BackendProcess.State.READY)
                .toArray(BackendProcess[]::new);
    }
}
