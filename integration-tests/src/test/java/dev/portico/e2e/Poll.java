package dev.portico.e2e;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Polling with a deadline, instead of sleeping and hoping. */
public final class Poll {

    private static final Duration INTERVAL = Duration.ofMillis(50);

    private Poll() {
    }

    /** Waits until {@code condition} holds; fails with {@code what} when {@code timeout} passes. */
    public static void until(Duration timeout, String what, BooleanSupplier condition) {
        until(timeout, what, condition::getAsBoolean, Boolean::booleanValue);
    }

    /**
     * Calls {@code supplier} until its value satisfies {@code accepted} and returns that value;
     * exceptions and assertion errors from the supplier count as "not yet". Fails naming the last
     * value or error.
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

    static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
