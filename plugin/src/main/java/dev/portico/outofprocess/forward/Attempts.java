package dev.portico.outofprocess.forward;

import dev.portico.hosting.StartFailure;
import dev.portico.outofprocess.backend.Backend;
import dev.portico.outofprocess.backend.RetryPolicy;

/**
 * The attempts of one exchange: the backend the current one goes to, the one the last failed on,
 * the start failure a waiting request met, and the retries so far. Written on container threads
 * and where a start completes, between dispatches; read by Jetty threads.
 */
final class Attempts {

    private volatile Backend backend;
    private volatile Backend failedBackend;
    private volatile StartFailure startFailure;
    private volatile int seenRetries;
    private volatile int refusedRetries;

    /** The backend of the current attempt, or null before one is chosen. */
    Backend backend() {
        return backend;
    }

    void backend(Backend backend) {
        this.backend = backend;
    }

    /** The backend the last attempt failed on (to be avoided by the next), or null. */
    Backend failedBackend() {
        return failedBackend;
    }

    /** Why no backend could be had for the request (it waited for a start that failed), or null. */
    StartFailure startFailure() {
        return startFailure;
    }

    void startFailure(StartFailure failure) {
        this.startFailure = failure;
    }

    /** The attempt that just failed, as {@link RetryPolicy} weighs it. */
    RetryPolicy.Attempt failed(String method, boolean hasBody, RetryPolicy.Failure failure, boolean answerStarted,
            boolean backendAlive) {
        return new RetryPolicy.Attempt(method, hasBody, failure, answerStarted, seenRetries, refusedRetries, backendAlive);
    }

    /** The failed attempt goes again: counted, and its backend is the one the next avoids. */
    void retried(boolean refused) {
        if (refused) {
            refusedRetries++;
        } else {
            seenRetries++;
        }
        failedBackend = backend;
        backend = null;
    }
}
