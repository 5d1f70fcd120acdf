package dev.portico.testsupport;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Waiting for a condition with a deadline, instead of sleeping and hoping. */
public final class Poll {

    private static final Duration INTERVAL = Duration.ofMillis(20);

    private Poll() {
    }

    /** Waits until {@code condition} holds; fails with {@code what} when {@code timeout} passes. */
    public static void until(Duration timeout, String what, BooleanSupplier condition) {
        until(timeout, what, condition::getAsBoolean, Boolean::booleanValue);
    }

    /**
     * Calls {@code supplier} until its value satisfies {@code accepted} and returns that value;
     * exceptions and assertion errors from the supplier count as "not yet" (a server still starting
     * refuses connections). Fails naming the last value, or with the last error as the cause.
     */
    public static <T> T until(Duration timeout, String what, Supplier<T> supplier, Predicate<? super T> accepted) {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        Throwable lastError = null;
        while (true) {
            try {
                last = supplier.get();
                lastError = null;
                if (accepted.test(last)) {
                    return last;
                }
            } catch (RuntimeException | AssertionError e) {
                lastError = e;
            }
            if (System.nanoTime() - deadline > 0) {
                AssertionError failure = new AssertionError("timed out after " + timeout.toMillis()
                        + " ms waiting for " + what + (lastError == null ? "; last value: " + last : ""));
                if (lastError != null) {
                    failure.initCause(lastError);
                }
                throw failure;
            }
            sleep(INTERVAL);
        }
    }

    /** Calls {@code supplier} until it returns a value other than null, and returns it; null when {@code timeout} passed. */
    public static <T> T valueWithin(Duration timeout, Supplier<T> supplier) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T value = supplier.get();
            if (value != null || System.nanoTime() - deadline > 0) {
                return value;
            }
            sleep(INTERVAL);
        }
    }

    public static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
