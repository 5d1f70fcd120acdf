package dev.portico.outofprocess.backend;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * What forwarding asks of an app's processes, and all it knows of them (Undertow's
 * {@code ProxyClient}): a backend for one attempt of an exchange, when a failed attempt may go
 * again, and how each attempt went. Behind it the pool chooses, starts, probes, ejects and
 * replaces; forwarding never sees how.
 */
public interface Backends {

    /**
     * A backend for one attempt: completed at once when one is ready, else when one gets ready.
     * Fails with {@link dev.portico.hosting.StartFailure} (no process could be started, or
     * backoff holds starts back) or {@link PoolSaturated} (maxQueuedRequests wait already).
     *
     * @param route the sticky-session cookie's value, or null
     * @param avoid the backend the previous attempt failed on, or null: another is chosen if one is ready
     */
    CompletableFuture<Backend> acquire(String route, Backend avoid);

    /** An attempt goes to {@code backend}; {@link #attemptEnded} follows exactly once. */
    void attemptStarted(Backend backend);

    void attemptEnded(Backend backend);

    /** The backend answered with {@code status} (502, 503 and 504 count as its failures at the gateway). */
    void answered(Backend backend, int status);

    /** The backend could not be reached, reset the connection or timed out. */
    void failed(Backend backend);

    /**
     * Completes when an attempt that failed on {@code failed} may go again: at once when another
     * backend is ready, else when the failed one's exit is known (its successor then starts) or
     * after {@code grace}. Whether it goes again is {@link RetryPolicy}'s to say.
     */
    CompletableFuture<Void> retryAfter(Backend failed, Duration grace);
}
