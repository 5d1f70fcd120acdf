package dev.portico.outofprocess.pool;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.ThreadLocalRandom;

import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.AppConfig;
import dev.portico.hosting.AppStatus;
import dev.portico.hosting.StartFailure;

/**
 * The failed starts and crashes of one pool: the {@link RestartBackoff} they feed, the last
 * failure (for the status page and the next 502.5), and when a waiting request stops waiting —
 * once it has seen {@value #ATTEMPTS_PER_WAIT} attempts fail, or backoff holds the next one back,
 * or the failure is one that no retry would mend. Not thread-safe: the pool's lock guards it.
 */
final class StartFailures {

    /** Start attempts a waiting request sees fail before it is answered 502.5 (ANCM re-picks the port once). */
    static final int ATTEMPTS_PER_WAIT = 2;

    private static final StringManager sm = StringManager.getManager(StartFailures.class);

    private final String appName;
    private final int rapidFailsPerMinute;
    private final RestartBackoff backoff;
    private int attemptsSinceWaitersWereTold;
    private StartFailure lastStart;
    private AppStatus.Failure last;

    StartFailures(String appName, AppConfig config, Clock clock) {
        this.appName = appName;
        this.rapidFailsPerMinute = config.rapidFailsPerMinute();
        this.backoff = new RestartBackoff(config.rapidFailsPerMinute(), config.pool().backoffInitialDelay(),
                config.pool().backoffMaxDelay(), clock, ThreadLocalRandom.current()::nextDouble);
    }

    /**
     * A start failed. @return what the requests waiting for a start are told (the failure, with
     * when the next start will be tried), or null when they go on waiting for the next attempt
     *
     * @param tellWaitersNow no retry would mend it (a hook refused the start, or it used up startupTimeLimit)
     */
    StartFailure startFailed(StartFailure failure, boolean tellWaitersNow, boolean anyWaiting) {
        lastStart = failure;
        last = new AppStatus.Failure(Instant.now(), failure.getMessage());
        Duration delay = backoff.recordFailure();
        attemptsSinceWaitersWereTold++;
        if (!anyWaiting || !(tellWaitersNow || attemptsSinceWaitersWereTold >= ATTEMPTS_PER_WAIT || !delay.isZero())) {
            return null;
        }
        attemptsSinceWaitersWereTold = 0;
        Instant next = backoff.nextAttemptAt();
        return next == null ? failure : new StartFailure(failure.getMessage() + " "
                + sm.getString("pool.nextAttempt", clockTime(next)), failure.outputTail(), failure.logFile());
    }

    /** A ready process crashed: backoff counts it as a failed start. */
    void crashed(String message) {
        last = new AppStatus.Failure(Instant.now(), message);
        backoff.recordFailure();
    }

    /** A process got ready: the requests that wait have seen no failure of the next attempts yet. */
    void started() {
        attemptsSinceWaitersWereTold = 0;
    }

    /** When backoff allows the next start, or null when it allows one now. */
    Instant nextAttemptAt() {
        return backoff.nextAttemptAt();
    }

    int failuresInLastMinute() {
        return backoff.failuresInLastMinute();
    }

    /** The last failed start, or null. */
    StartFailure lastStart() {
        return lastStart;
    }

    /** The last failed start or crash, for the status page, or null. */
    AppStatus.Failure last() {
        return last;
    }

    /** What a request that finds nothing starting while backoff holds starts back is told. */
    StartFailure backingOff(Instant next) {
        String message = sm.getString("pool.backingOff", appName, String.valueOf(backoff.failuresInLastMinute()),
                clockTime(next), String.valueOf(rapidFailsPerMinute));
        return lastStart == null ? new StartFailure(message, "", null)
                : new StartFailure(message + " " + lastStart.getMessage(), lastStart.outputTail(), lastStart.logFile());
    }

    private static String clockTime(Instant instant) {
        return LocalTime.ofInstant(instant, ZoneId.systemDefault()).truncatedTo(ChronoUnit.MILLIS).toString();
    }
}
