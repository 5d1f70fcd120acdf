package dev.portico.outofprocess.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;

import org.junit.jupiter.api.Test;

/** The backoff's arithmetic on a clock the test moves by hand. */
class RestartBackoffTest {

    /** A clock that stands still until the test moves it. */
    private static final class HandClock extends Clock {
        private Instant now = Instant.parse("2026-12-01T12:00:00Z");

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneId.of("UTC");
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    private final HandClock clock = new HandClock();

    private RestartBackoff backoff(int rapidFailsPerMinute, double jitter) {
        return new RestartBackoff(rapidFailsPerMinute, Duration.ofMillis(100), Duration.ofSeconds(30), clock, () -> jitter);
    }

    @Test
    void failuresUpToRapidFailsPerMinuteCostNothing() {
        RestartBackoff backoff = backoff(3, 0.5);
        for (int i = 0; i < 3; i++) {
            assertEquals(Duration.ZERO, backoff.recordFailure(), "failure " + (i + 1));
            assertNull(backoff.nextAttemptAt());
            clock.advance(Duration.ofSeconds(1));
        }
        assertEquals(Duration.ofMillis(100), backoff.recordFailure(), "the fourth within a minute backs off");
        assertEquals(clock.instant().plusMillis(100), backoff.nextAttemptAt());
        clock.advance(Duration.ofMillis(100));
        assertNull(backoff.nextAttemptAt(), "once the wait is over a start may be made");
    }

    @Test
    void eachFurtherFailureDoublesTheWaitUpToTheMaximum() {
        RestartBackoff backoff = backoff(0, 0.5); // jitter factor 0.8 + 0.4 * 0.5 = 1.0
        long[] expected = {100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000};
        for (long millis : expected) {
            assertEquals(Duration.ofMillis(millis), backoff.recordFailure());
            clock.advance(Duration.ofMillis(millis));
        }
    }

    @Test
    void jitterStaysWithinTwentyPercentAndUnderTheMaximum() {
        assertEquals(Duration.ofMillis(80), backoff(0, 0.0).recordFailure());
        RestartBackoff high = backoff(0, 0.999_999);
        Duration first = high.recordFailure();
        assertTrue(first.toMillis() >= 119 && first.toMillis() <= 120, first.toString());
        for (int i = 0; i < 20; i++) {
            clock.advance(Duration.ofSeconds(1));
            assertTrue(high.recordFailure().compareTo(Duration.ofSeconds(30)) <= 0);
        }
    }

    @Test
    void aMinuteWithoutFailureForgivesEverything() {
        RestartBackoff backoff = backoff(1, 0.5);
        backoff.recordFailure();
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofSeconds(1));
            backoff.recordFailure();
        }
        assertEquals(6, backoff.failuresInLastMinute());
        clock.advance(Duration.ofSeconds(61));
        assertEquals(0, backoff.failuresInLastMinute());
        assertEquals(Duration.ZERO, backoff.recordFailure(), "the first failure after a quiet minute is free again");
    }
}
