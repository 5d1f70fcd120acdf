package dev.portico.outofprocess.pool;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.PoolConfig;
import dev.portico.outofprocess.backend.Backend;
import dev.portico.outofprocess.backend.Backends;
import dev.portico.outofprocess.process.BackendProcess;

/**
 * The pool as forwarding sees it (Undertow's {@code LoadBalancingProxyClient} in front of its
 * hosts): a ready backend for each attempt, chosen by the {@link Balancer} without taking the
 * pool's lock; the pool only when none is ready; what each attempt's outcome means for its
 * backend (maxRequestsPerProcess, {@link OutlierDetection}); and when a failed attempt may go again.
 */
final class BalancingBackends implements Backends {

    private static final StringManager sm = StringManager.getManager(BalancingBackends.class);

    private final BackendPool pool;
    private final PoolConfig config;
    private final ScheduledExecutorService scheduler;
    private final OutlierDetection outliers;

    BalancingBackends(BackendPool pool, PoolConfig config, ScheduledExecutorService scheduler) {
        this.pool = pool;
        this.config = config;
        this.scheduler = scheduler;
        this.outliers = new OutlierDetection(config.maxConsecutiveFailures());
    }

    @Override
    public CompletableFuture<Backend> acquire(String route, Backend avoid) {
        pool.active();
        Backend chosen = Balancer.choose(pool.ready(), route, avoid, ThreadLocalRandom.current());
        return chosen != null ? CompletableFuture.completedFuture(chosen) : pool.await(route, avoid);
    }

    @Override
    public CompletableFuture<Void> retryAfter(Backend failed, Duration grace) {
        for (BackendProcess candidate : pool.ready()) {
            if (candidate != failed && candidate.isAlive()) {
                return CompletableFuture.completedFuture(null);
            }
        }
        CompletableFuture<Void> noted = own(failed).onExit().thenAccept(process -> pool.forgetDeadReady());
        // the valve's scheduler, not completeOnTimeout: that starts the JVM-wide delay thread, which
        // inherits the context class loader of whichever request thread first needs it
        try {
            ScheduledFuture<?> timer = scheduler.schedule(() -> noted.complete(null), grace.toMillis(),
                    TimeUnit.MILLISECONDS);
            noted.whenComplete((ignored, error) -> timer.cancel(false));
        } catch (RejectedExecutionException stopping) {
            noted.complete(null);
        }
        return noted;
    }

    @Override
    public void attemptStarted(Backend attempted) {
        BackendProcess backend = own(attempted);
        pool.active();
        long served = backend.requestStarted();
        if (config.maxRequestsPerProcess() > 0 && served == config.maxRequestsPerProcess()) {
            pool.replace(backend, sm.getString("pool.reason.maxRequests", String.valueOf(served)), false);
        }
    }

    @Override
    public void attemptEnded(Backend backend) {
        own(backend).requestEnded();
        pool.active();
    }

    /** 502, 503 and 504 count as gateway failures, anything else clears them. */
    @Override
    public void answered(Backend backend, int status) {
        noteOutcome(backend, status == 502 || status == 503 || status == 504);
    }

    @Override
    public void failed(Backend backend) {
        noteOutcome(backend, true);
    }

    private void noteOutcome(Backend backend, boolean gatewayFailure) {
        int inARow = outliers.note(backend, gatewayFailure);
        if (inARow > 0 && backend.isAlive()) {
            pool.replace(own(backend), sm.getString("pool.reason.outlier", String.valueOf(inARow)), true);
        }
    }

    /** The backend left the pool. */
    void forget(Backend backend) {
        outliers.forget(backend);
    }

    /** Every backend forwarding hands back is one this pool handed out. */
    private static BackendProcess own(Backend backend) {
        return (BackendProcess) backend;
    }
}
