package dev.portico.process;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A GET to a backend that holds no thread while it waits: the readiness and health checks of a
 * pool. The valve implements it on its non-blocking HTTP client.
 */
@FunctionalInterface
public interface HttpProbe {

    /**
     * @param pathAndQuery the path below the backend's root, already encoded
     * @return the answer's status code; fails on any connection error or at {@code timeout}
     */
    CompletableFuture<Integer> get(int port, String pathAndQuery, String token, Duration timeout);
}
