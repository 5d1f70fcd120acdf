package dev.portico.config;

import java.time.Duration;

/**
 * How an out-of-process app's processes are pooled, probed, replaced and limited. Every limit is
 * optional: zero (or null) turns it off.
 *
 * @param processes processesPerApplication: processes serving the app at once (1–64)
 * @param stickySessions a cookie sends a client back to the process that served it first
 * @param readinessPath path below the app that answers 2xx once a process is ready; null: the port accepting a connection is enough
 * @param healthCheckInterval how often ready processes are probed again; zero: never
 * @param maxConsecutiveFailures gateway failures in a row (connection errors, timeouts, 502/503/504) after which a process is ejected and replaced; 0: never
 * @param backoffInitialDelay the wait before the first start held back by backoff
 * @param backoffMaxDelay the longest wait between failed starts
 * @param maxRequestsPerProcess requests after which a process is replaced (rolling); 0: no limit
 * @param memoryLimitBytes resident memory of a process and its descendants above which it is replaced; 0: no limit
 * @param idleTimeout no request for this long stops the app's processes (the next request starts them); zero: never
 * @param maxQueuedRequests requests that may wait for a ready process; more are answered 503 at once; 0: no limit
 */
public record PoolConfig(int processes, boolean stickySessions, String readinessPath, Duration healthCheckInterval,
        int maxConsecutiveFailures, Duration backoffInitialDelay, Duration backoffMaxDelay, long maxRequestsPerProcess,
        long memoryLimitBytes, Duration idleTimeout, int maxQueuedRequests) {

    /** One process, probed by its port, replaced only when it exits: Portico's behaviour before pools. */
    public static final PoolConfig DEFAULT = new PoolConfig(1, false, null, Duration.ZERO, 5, Duration.ofMillis(100),
            Duration.ofSeconds(30), 0, 0, Duration.ZERO, 0);
}
