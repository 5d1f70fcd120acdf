package dev.portico.outofprocess.forward;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;

import org.eclipse.jetty.client.AsyncRequestContent;
import org.eclipse.jetty.util.Callback;

/**
 * Streams the client's request body into the backend request without blocking, with a bound
 * on what is read but not yet sent.
 *
 * <p>Jetty's own reader (AsyncProxyServlet.StreamReader) closes the backend body from
 * {@code onAllDataRead} while its read loop, on a Jetty thread, may still be about to write the
 * last chunk: Tomcat calls {@code onAllDataRead} as soon as the input is finished, so under load
 * bodies lost their last bytes ("incorrect content-length 4096!=7016"). Here every event — data
 * available, all data read, a failure, the backend taking a chunk, the end of the exchange — only
 * asks for a {@link #drain}, and one thread at a time drains: whoever finds the reader idle runs
 * the loop, and runs it again for every request that came meanwhile. So the body is closed after
 * its last chunk and never twice, and no event waits: a container thread that holds Tomcat's
 * connection lock never waits for a Jetty thread that is reading (a read can itself need that
 * lock, when it reaches the end of a chunked body and Tomcat dispatches onAllDataRead inline).
 *
 * <p>Reads happen on Tomcat's threads only: in its {@code onDataAvailable}, and — when a Jetty
 * thread resumes reading after a pause ({@value #PAUSE_AT} bytes waiting for the backend, resumed
 * below {@value #RESUME_AT}) or turns it into dropping what is left — in a task the exchange runs
 * on Tomcat's executor under the client's connection lock ({@code AsyncContext.start}). A read
 * that ends the body makes Tomcat process the connection's next event on the reading thread
 * (onAllDataRead, the completion, and possibly a pipelined request served by any app of the
 * Host): that must never be the Jetty selector. Before the exchange's end lets Tomcat recycle the
 * request it waits, bounded, for a drain in progress; each step of the loop checks for that end first.
 */
final class RequestBodyReader implements ReadListener {

    private static final int CHUNK = 16 * 1024;
    static final long PAUSE_AT = 256 * 1024;
    static final long RESUME_AT = 64 * 1024;
    /** How long the end of the exchange waits for a drain in progress (one that waits on Tomcat's connection lock cannot finish meanwhile). */
    private static final long END_WAIT_MILLIS = 200;
    /**
     * How much of a body the backend no longer takes is read and dropped so that Tomcat's read
     * machinery comes to rest (Tomcat's own maxSwallowSize); past it the exchange may complete
     * without that, from the callback that read the last of it.
     */
    static final long DISCARD_LIMIT = 2 * 1024 * 1024;

    private final ServletInputStream input;
    private final AsyncRequestContent content;
    private final Consumer<Throwable> clientFailed;
    private final Runnable allDataRead;
    private final Consumer<Runnable> onTomcatThread;
    /** Drain requests not yet served; the thread that raises it from 0 drains. */
    private final AtomicInteger requested = new AtomicInteger();
    /** Held by the draining thread, so that the end of the exchange can wait for it. */
    private final ReentrantLock draining = new ReentrantLock();
    private final AtomicLong pending = new AtomicLong();
    /** Tomcat's onDataAvailable callbacks running now: after each, Tomcat itself delivers onAllDataRead if the body is finished. */
    private final AtomicInteger inCallback = new AtomicInteger();
    private final AtomicBoolean paused = new AtomicBoolean();
    private final AtomicReference<Throwable> clientFailure = new AtomicReference<>();
    private volatile boolean ended;
    private volatile boolean done;
    private volatile boolean delivered;
    /** The backend takes no more of the body (it failed or finished): what the client still sends is dropped. */
    private volatile boolean discarding;
    /** Past {@link #DISCARD_LIMIT}: no more is read, and the exchange need not wait for onAllDataRead. */
    private volatile boolean gaveUp;
    private long read;
    private long discarded;

    /**
     * @param clientFailed told (once) when the client's body cannot be read: a malformed or cut body
     * @param allDataRead told when Tomcat has delivered onAllDataRead: only then is its read
     *        machinery for this request at rest, and the exchange may complete
     * @param onTomcatThread runs a task on one of Tomcat's threads while the exchange is open
     *        (nothing when it is over): how a drain asked for by a Jetty thread is run
     */
    RequestBodyReader(ServletInputStream input, AsyncRequestContent content, Consumer<Throwable> clientFailed,
            Runnable allDataRead, Consumer<Runnable> onTomcatThread) {
        this.input = input;
        this.content = content;
        this.clientFailed = clientFailed;
        this.allDataRead = allDataRead;
        this.onTomcatThread = onTomcatThread;
    }

    @Override
    public void onDataAvailable() {
        inCallback.incrementAndGet();
        try {
            drain();
        } finally {
            inCallback.decrementAndGet();
        }
    }

    @Override
    public void onAllDataRead() {
        drain();
        delivered = true;
        allDataRead.run();
    }

    /**
     * True while Tomcat's read machinery for this request is not at rest: onAllDataRead has not
     * been delivered (it will be once the body has been read to its end — forwarded, or dropped
     * when the backend takes no more; for an empty body Tomcat has it queued from the start), the
     * body has not failed, and the reader has not given up on an endless body. Until then Tomcat
     * may still dispatch a read event it has queued or armed.
     */
    boolean awaitsAllDataRead() {
        return !delivered && clientFailure.get() == null && !gaveUp && !ended;
    }

    @Override
    public void onError(Throwable failure) {
        clientFailure.compareAndSet(null, failure);
        drain();
    }

    /** True when the whole body was read and handed on. */
    boolean isComplete() {
        return done && clientFailure.get() == null && pending.get() == 0 && input.isFinished();
    }

    /** Bytes read from the client so far (read by the draining thread; for tests and diagnostics). */
    long bytesRead() {
        return read;
    }

    /**
     * The client's exchange is over: no read may follow. Never blocks for long: it waits, at most
     * {@value #END_WAIT_MILLIS} ms, for a drain in progress, so that a read of this reader does
     * not overlap Tomcat's recycling of the request.
     */
    void clientEnded() {
        ended = true;
        drain();
        try {
            if (draining.tryLock(END_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                draining.unlock();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void drain() {
        if (requested.getAndIncrement() != 0) {
            return;
        }
        draining.lock();
        try {
            int missed = 1;
            do {
                step();
                missed = requested.addAndGet(-missed);
            } while (missed != 0);
        } finally {
            draining.unlock();
        }
    }

    /** Reads what there is to read, unless the body is finished, failed, over its backlog, or no longer wanted. */
    private void step() {
        if (done) {
            return;
        }
        if (discarding) {
            discard();
            return;
        }
        if (ended) {
            done = true;
            content.fail(new IOException("the client's exchange ended"));
            return;
        }
        Throwable failure = clientFailure.get();
        if (failure != null) {
            failClient(failure);
            return;
        }
        try {
            forward();
        } catch (IOException | RuntimeException e) {
            clientFailure.compareAndSet(null, e);
            failClient(e);
        }
    }

    /** Reads and hands on what the client has sent, until none is ready, the body ends, or the backend's backlog is full. */
    private void forward() throws IOException {
        while (!ended) {
            if (pending.get() >= PAUSE_AT) {
                paused.set(true);
                // the backlog may have drained since: then whoever unpauses goes on reading
                if (pending.get() < RESUME_AT && paused.compareAndSet(true, false)) {
                    continue;
                }
                return;
            }
            if (input.isFinished()) {
                finish();
                return;
            }
            if (!input.isReady()) {
                return;
            }
            byte[] buffer = new byte[CHUNK];
            int n = input.read(buffer);
            if (n < 0) {
                finish();
                return;
            }
            if (n > 0) {
                read += n;
                pending.addAndGet(n);
                content.write(ByteBuffer.wrap(buffer, 0, n), Callback.from(() -> sent(n), this::backendFailed));
            }
        }
    }

    /** The body is read to its end: the backend's body ends, and Tomcat is asked to deliver onAllDataRead. */
    private void finish() {
        done = true;
        content.close();
        if (delivered || inCallback.get() > 0) {
            // a callback of Tomcat's is running (this thread's, or one that found this drain busy):
            // Tomcat delivers onAllDataRead when it returns. Asking as well would queue a second read
            // event, which Tomcat may process after the exchange began completing (SEVERE
            // "asyncOperation() … COMPLETING", and the next request on the connection lost)
            return;
        }
        try {
            // outside Tomcat's own callbacks (a task on its executor) this is what makes Tomcat
            // deliver onAllDataRead, there and then (inside a callback it does so when the callback
            // returns); the body is whole either way
            input.isReady();
        } catch (RuntimeException e) {
            // delivered meanwhile, and the request has ended: nothing is owed
        }
    }

    private void sent(int n) {
        if (pending.addAndGet(-n) < RESUME_AT && paused.compareAndSet(true, false)) {
            onTomcatThread.accept(this::drain);
        }
    }

    private void backendFailed(Throwable failure) {
        // the body is still read to its end (and dropped), so that Tomcat delivers onAllDataRead and
        // the exchange completes on a container thread, never while a read of Tomcat's is armed
        discarding = true;
        onTomcatThread.accept(this::drain);
    }

    /**
     * The answer is complete (or failed) before the body was read to its end: the rest is read and
     * dropped, so that the exchange's end can wait for onAllDataRead.
     */
    void stopForwarding() {
        discarding = true;
        onTomcatThread.accept(this::drain);
    }

    /**
     * Reads and drops what the client still sends. Past {@link #DISCARD_LIMIT} it gives up and
     * asks for the exchange's end from here.
     */
    private void discard() {
        try {
            byte[] buffer = new byte[CHUNK];
            while (!ended) {
                if (input.isFinished()) {
                    finish();
                    return;
                }
                if (!input.isReady()) {
                    return;
                }
                int n = input.read(buffer);
                if (n < 0) {
                    finish();
                    return;
                }
                discarded += n;
                if (discarded > DISCARD_LIMIT) {
                    done = true;
                    gaveUp = true;
                    allDataRead.run();
                    return;
                }
            }
        } catch (IOException | RuntimeException e) {
            // the client's side failed too: its failure ends the exchange
            done = true;
            clientFailure.compareAndSet(null, e);
            allDataRead.run();
        }
    }

    private void failClient(Throwable failure) {
        done = true;
        // answer first: failing the content aborts the backend request, whose failure must find the exchange answered
        clientFailed.accept(failure);
        content.fail(failure);
    }
}
