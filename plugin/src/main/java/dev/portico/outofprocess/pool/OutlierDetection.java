package dev.portico.outofprocess.pool;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import dev.portico.outofprocess.backend.Backend;

/**
 * Passive health checking (maxConsecutiveFailures, Envoy's "consecutive gateway failures"): a
 * backend whose requests fail at the gateway that many times in a row — connection errors,
 * timeouts, or a 502/503/504 answer — is ejected; any other answer clears its count. 0 turns it
 * off. A success costs one map lookup.
 */
final class OutlierDetection {

    private final int limit;
    private final Map<Backend, AtomicInteger> inARow = new ConcurrentHashMap<>();

    OutlierDetection(int maxConsecutiveFailures) {
        this.limit = maxConsecutiveFailures;
    }

    /** @return the gateway failures in a row when this outcome is the one that reaches the limit (eject it), else 0 */
    int note(Backend backend, boolean gatewayFailure) {
        if (!gatewayFailure) {
            AtomicInteger count = inARow.get(backend);
            if (count != null) {
                count.set(0);
            }
            return 0;
        }
        int failures = inARow.computeIfAbsent(backend, b -> new AtomicInteger()).incrementAndGet();
        return limit > 0 && failures == limit ? failures : 0;
    }

    /** The backend left the pool: its count goes with it. */
    void forget(Backend backend) {
        inARow.remove(backend);
    }
}
