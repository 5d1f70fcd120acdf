package dev.portico.config;

import java.time.Duration;

/**
 * How an out-of-process app's processes are pooled, probed, replaced and limited: the pool
 * attributes of the app's {@link AppConfig}. Every limit is optional: zero (or null) turns it off.
 */
public final class PoolConfig {

    private final AppConfig config;

    PoolConfig(AppConfig config) {
        this.config = config;
    }

    /** The reason the backoff's longest wait does not go with its first one, or null when it does. */
    static String backoffConflict(Duration initial, Duration max) {
        return max.compareTo(initial) < 0 ? "must not be less than backoffInitialDelayMs (" + initial.toMillis() + ")"
                : null;
    }

    /** processesPerApplication: processes serving the app at once. */
    public int processes() {
        return config.value(Attribute.PROCESSES_PER_APPLICATION);
    }

    /** A cookie sends a client back to the process that served it first. */
    public boolean stickySessions() {
        return config.value(Attribute.STICKY_SESSIONS);
    }

    /** Path below the app that answers 2xx once a process is ready; null: the port accepting a connection is enough. */
    public String readinessPath() {
        return config.value(Attribute.READINESS_PATH);
    }

    /** How often ready processes are probed again; zero: never. */
    public Duration healthCheckInterval() {
        return config.value(Attribute.HEALTH_CHECK_INTERVAL);
    }

    /** Gateway failures in a row (connection errors, timeouts, 502/503/504) after which a process is replaced; 0: never. */
    public int maxConsecutiveFailures() {
        return config.value(Attribute.MAX_CONSECUTIVE_FAILURES);
    }

    /** The wait before the first start held back by backoff. */
    public Duration backoffInitialDelay() {
        return config.value(Attribute.BACKOFF_INITIAL_DELAY_MS);
    }

    /** The longest wait between failed starts. */
    public Duration backoffMaxDelay() {
        return config.value(Attribute.BACKOFF_MAX_DELAY_MS);
    }

    /** Requests after which a process is replaced (rolling); 0: no limit. */
    public long maxRequestsPerProcess() {
        return config.<Integer>value(Attribute.MAX_REQUESTS_PER_PROCESS);
    }

    /** Resident memory of a process and its descendants above which it is replaced; 0: no limit. */
    public long memoryLimitBytes() {
        return config.<Integer>value(Attribute.MEMORY_LIMIT) * 1024L * 1024L;
    }

    /** No request for this long stops the app's processes (the next request starts them); zero: never. */
    public Duration idleTimeout() {
        return config.value(Attribute.IDLE_TIMEOUT);
    }

    /** Requests that may wait for a ready process; more are answered 503 at once; 0: no limit. */
    public int maxQueuedRequests() {
        return config.value(Attribute.MAX_QUEUED_REQUESTS);
    }
}
