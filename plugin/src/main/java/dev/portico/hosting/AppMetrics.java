package dev.portico.hosting;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;

/**
 * Requests one hosted app was handed and how long they took to end, for the status page, its
 * Prometheus text and JMX. One per catalog slot, so the figures run on across recycles. Counted
 * where the valve hands a request to the app and ended when the request is over (the end of an
 * async cycle included); written by every request thread, hence adders and fixed buckets only.
 */
public final class AppMetrics {

    /** Upper bounds of the latency buckets, in seconds (Prometheus' defaults, plus 30 s for slow backends). */
    public static final double[] BUCKET_SECONDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

    private static final long[] BUCKET_NANOS = new long[BUCKET_SECONDS.length];

    static {
        for (int i = 0; i < BUCKET_SECONDS.length; i++) {
            BUCKET_NANOS[i] = (long) (BUCKET_SECONDS[i] * TimeUnit.SECONDS.toNanos(1));
        }
    }

    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder ended = new LongAdder();
    private final LongAdder nanos = new LongAdder();
    /** Requests per bucket (not cumulative); the last one counts those slower than every bound. */
    private final LongAdder[] buckets = new LongAdder[BUCKET_SECONDS.length + 1];

    public AppMetrics() {
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = new LongAdder();
        }
    }

    /** A request is being handed to the app; returns its start for {@link #handled}. */
    public long begin() {
        requests.increment();
        return System.nanoTime();
    }

    /**
     * The app's {@code handle} returned: the request ends now, or when its async cycle completes.
     * A response of status 500 or more counts as a failure.
     */
    public void handled(Request request, Response response, long startNanos) {
        if (request.isAsync() && RequestEnd.whenAsyncCompletes(request, () -> end(response.getStatus() >= 500, startNanos))) {
            return;
        }
        end(response.getStatus() >= 500, startNanos);
    }

    /** The app's {@code handle} threw: Tomcat answers 500, and the request has ended. */
    public void threw(long startNanos) {
        end(true, startNanos);
    }

    private void end(boolean failed, long startNanos) {
        long took = System.nanoTime() - startNanos;
        if (failed) {
            failures.increment();
        }
        nanos.add(took);
        int bucket = 0;
        while (bucket < BUCKET_NANOS.length && took > BUCKET_NANOS[bucket]) {
            bucket++;
        }
        buckets[bucket].increment();
        ended.increment();
    }

    /** A consistent-enough copy for one page: each figure read once. */
    public Snapshot snapshot() {
        long[] counts = new long[buckets.length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = buckets[i].sum();
        }
        return new Snapshot(requests.sum(), ended.sum(), failures.sum(), nanos.sum(), counts);
    }

    /**
     * @param requests requests handed to the app
     * @param ended requests that have ended (the histogram's count)
     * @param failures ended requests answered with 500 or more, or whose handling threw
     * @param nanos total time of the ended requests
     * @param buckets ended requests per latency bucket, not cumulative; one more than {@link #BUCKET_SECONDS}
     */
    public record Snapshot(long requests, long ended, long failures, long nanos, long[] buckets) {
    }
}
