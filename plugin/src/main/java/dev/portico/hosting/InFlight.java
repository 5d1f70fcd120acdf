package dev.portico.hosting;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.catalina.connector.Request;

/**
 * The requests one generation of an app has admitted and not yet finished, from the valve's
 * hand-over to the end of the last async cycle — the one count that decides when a generation
 * may release what its requests use (its Context, its processes). Once closed it admits no more:
 * a request that finds it closed goes to whatever now serves the app's path. A backend process
 * counts its requests with one too ({@link #enter}), drained before the process is stopped.
 *
 * <p>Why at this level and not per process: between the valve's choice of a generation and the
 * moment a backend counts the request, and between two attempts of a retried request, a request
 * belongs to no process; a generation that stopped on its processes' counts removed its Context
 * under such requests, and Tomcat then ended their async cycles with its own bare 500.
 */
public final class InFlight {

    private final AtomicInteger count = new AtomicInteger();
    private final Object drained = new Object();
    private volatile boolean closing;

    /** Counts a request in, closed or not (one already on its way to what it counts). */
    public void enter() {
        count.incrementAndGet();
    }

    /** Counts a request in; false (nothing counted) once closed. */
    public boolean tryEnter() {
        count.incrementAndGet();
        if (closing) {
            exit();
            return false;
        }
        return true;
    }

    /** Counts a request out. */
    public void exit() {
        if (count.decrementAndGet() == 0 && closing) {
            synchronized (drained) {
                drained.notifyAll();
            }
        }
    }

    /** Counts {@code request} out when it is over: now if it is synchronous, at the end of its async cycle if not. */
    public void exitWhenOver(Request request) {
        if (!RequestEnd.whenAsyncCompletes(request, this::exit)) {
            exit();
        }
    }

    /** Admits no more requests. */
    public void close() {
        closing = true;
    }

    public boolean isClosed() {
        return closing;
    }

    public int count() {
        return count.get();
    }

    /**
     * Closes, then waits (blocking) until every admitted request has finished, or {@code limit}
     * has passed. @return the requests still in flight: 0 when drained
     */
    public int drain(Duration limit) {
        close();
        long deadline = System.nanoTime() + limit.toNanos();
        synchronized (drained) {
            long left;
            while (count.get() > 0 && (left = deadline - System.nanoTime()) > 0) {
                try {
                    drained.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        return count.get();
    }
}
