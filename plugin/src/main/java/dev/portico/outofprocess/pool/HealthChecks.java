package dev.portico.outofprocess.pool;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

import dev.portico.outofprocess.backend.Backend;

/**
 * Active health checking (healthCheckInterval): every interval each ready backend is probed as
 * its readiness was (readinessPath, or its port), and one that fails {@value #FAILED_IN_A_ROW}
 * checks in a row while alive is ejected. A dead one is not: its exit is the pool's business.
 */
final class HealthChecks {

    /** Failed health checks in a row that take a process out of rotation. */
    static final int FAILED_IN_A_ROW = 3;

    private final long intervalNanos;
    private final LongSupplier nanoTime;
    private final Function<Backend, CompletableFuture<Boolean>> probe;
    private final BiConsumer<Backend, Integer> eject;
    private final Map<Backend, AtomicInteger> failures = new ConcurrentHashMap<>();
    private long lastRoundNanos;

    /**
     * @param probe checks one backend: true when it passes
     * @param eject told the backend and its failures in a row, once, when they reach {@value #FAILED_IN_A_ROW}
     */
    HealthChecks(Duration interval, LongSupplier nanoTime, Function<Backend, CompletableFuture<Boolean>> probe,
            BiConsumer<Backend, Integer> eject) {
        this.intervalNanos = interval.toNanos();
        this.nanoTime = nanoTime;
        this.probe = probe;
        this.eject = eject;
        this.lastRoundNanos = nanoTime.getAsLong();
    }

    boolean enabled() {
        return intervalNanos > 0;
    }

    /** Called now and then (the pool's maintenance); checks {@code ready} when an interval has passed since the last round. */
    void tick(List<? extends Backend> ready) {
        long now = nanoTime.getAsLong();
        if (!enabled() || now - lastRoundNanos < intervalNanos) {
            return;
        }
        lastRoundNanos = now;
        for (Backend backend : ready) {
            probe.apply(backend).thenAccept(passed -> noteCheck(backend, passed));
        }
    }

    private void noteCheck(Backend backend, boolean passed) {
        if (passed) {
            failures.remove(backend);
            return;
        }
        int inARow = failures.computeIfAbsent(backend, b -> new AtomicInteger()).incrementAndGet();
        if (inARow == FAILED_IN_A_ROW && backend.isAlive()) {
            eject.accept(backend, inARow);
        }
    }

    /** The backend left the pool: its count goes with it. */
    void forget(Backend backend) {
        failures.remove(backend);
    }
}
