package dev.portico.outofprocess.pool;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.DoubleSupplier;

/**
 * When an app whose processes keep failing may be started again. Up to rapidFailsPerMinute
 * failures within a minute cost nothing (ANCM's meaning of the attribute: the point where
 * trouble starts); each failure beyond doubles the wait before the next start, from the initial
 * delay up to the maximum, with ±20% jitter so that many apps failing together do not retry in
 * step. A minute without a failure forgives everything. Never a hold for good: there is always a
 * next attempt.
 */
final class RestartBackoff {

    static final Duration WINDOW = Duration.ofMinutes(1);

    private final int freeFailures;
    private final Duration initial;
    private final Duration max;
    private final Clock clock;
    private final DoubleSupplier random;
    private final Deque<Instant> recent = new ArrayDeque<>();
    private int level;
    private Instant lastFailure;
    private Duration delay = Duration.ZERO;

    /** @param random values in [0, 1) for the jitter */
    RestartBackoff(int rapidFailsPerMinute, Duration initial, Duration max, Clock clock, DoubleSupplier random) {
        this.freeFailures = rapidFailsPerMinute;
        this.initial = initial;
        this.max = max;
        this.clock = clock;
        this.random = random;
    }

    /** Counts a failed start or a crash; returns the wait before the next start (zero: at once). */
    synchronized Duration recordFailure() {
        Instant now = clock.instant();
        if (lastFailure != null && !now.isBefore(lastFailure.plus(WINDOW))) {
            level = 0;
        }
        lastFailure = now;
        recent.addLast(now);
        forgetBefore(now.minus(WINDOW));
        if (recent.size() > freeFailures) {
            level++;
        }
        delay = level == 0 ? Duration.ZERO : jittered(doubled(level - 1));
        return delay;
    }

    private Duration doubled(int times) {
        Duration wait = initial;
        for (int i = 0; i < times && wait.compareTo(max) < 0; i++) {
            wait = wait.multipliedBy(2);
        }
        return wait.compareTo(max) > 0 ? max : wait;
    }

    private Duration jittered(Duration wait) {
        double factor = 0.8 + 0.4 * random.getAsDouble();
        Duration result = Duration.ofNanos((long) (wait.toNanos() * factor));
        return result.compareTo(max) > 0 ? max : result;
    }

    /** When the next start may be made, or null when it may be made now. */
    synchronized Instant nextAttemptAt() {
        if (lastFailure == null || delay.isZero()) {
            return null;
        }
        Instant next = lastFailure.plus(delay);
        return clock.instant().isBefore(next) ? next : null;
    }

    synchronized int failuresInLastMinute() {
        forgetBefore(clock.instant().minus(WINDOW));
        return recent.size();
    }

    private void forgetBefore(Instant cutoff) {
        while (!recent.isEmpty() && recent.peekFirst().isBefore(cutoff)) {
            recent.removeFirst();
        }
    }
}
