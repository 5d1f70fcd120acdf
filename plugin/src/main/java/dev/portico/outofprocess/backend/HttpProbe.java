package dev.portico.outofprocess.backend;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Requests to a backend that hold no thread while they wait: the readiness and health checks of
 * a pool and the shutdown message, over the process's own transport (port or socket). The valve
 * implements it on its non-blocking HTTP client.
 */
public interface HttpProbe {

    /**
     * A GET with the pairing token.
     *
     * @param pathAndQuery the path below the backend's root, already encoded
     * @return the answer's status code; fails on any connection error or at {@code timeout}
     */
    CompletableFuture<Integer> get(BackendAddress backend, String pathAndQuery, String token, Duration timeout);

    /** The shutdown message: a POST to {@code path} with the token and {@code X-Portico-Event: shutdown}. */
    CompletableFuture<Integer> shutdown(BackendAddress backend, String path, String token, Duration timeout);
}
