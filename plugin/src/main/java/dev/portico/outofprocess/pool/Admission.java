package dev.portico.outofprocess.pool;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.apache.tomcat.util.res.StringManager;

import dev.portico.outofprocess.backend.Backend;
import dev.portico.outofprocess.backend.PoolSaturated;

/**
 * The requests waiting for a ready process, and the limit on them (maxQueuedRequests, 0 for
 * none): one past it is refused at once rather than parked. Not thread-safe: the pool's lock
 * guards it; waiters are completed after the lock is released.
 */
final class Admission {

    private static final StringManager sm = StringManager.getManager(Admission.class);

    private final String appName;
    private final int limit;
    private final Deque<CompletableFuture<Backend>> waiting = new ArrayDeque<>();

    Admission(String appName, int limit) {
        this.appName = appName;
        this.limit = limit;
    }

    /** A place in the queue, or a future failed with {@link PoolSaturated} when the queue is full. */
    CompletableFuture<Backend> enqueue() {
        if (limit > 0 && waiting.size() >= limit) {
            return CompletableFuture.failedFuture(new PoolSaturated(sm.getString("pool.saturated", appName,
                    String.valueOf(waiting.size()))));
        }
        CompletableFuture<Backend> waiter = new CompletableFuture<>();
        waiting.addLast(waiter);
        return waiter;
    }

    boolean isEmpty() {
        return waiting.isEmpty();
    }

    /** Every waiting request, taken out of the queue (to be completed outside the lock). */
    List<CompletableFuture<Backend>> takeAll() {
        List<CompletableFuture<Backend>> all = new ArrayList<>(waiting);
        waiting.clear();
        return all;
    }
}
