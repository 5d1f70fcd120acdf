package dev.portico.forward;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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
 * bodies lost their last bytes ("incorrect content-length 4096!=7016"). Here every read, the end
 * of the body and its failure go through one lock, so the body is closed after its last chunk and
 * never twice.
 *
 * <p>Reads happen on container threads (Tomcat's {@code onDataAvailable}) except after a pause:
 * when {@value #PAUSE_AT} bytes wait for the backend, reading stops, and the Jetty thread that
 * sees the backlog drop below {@value #RESUME_AT} resumes it (the Servlet API has no other way
 * back to a container thread). The exchange's end takes the same lock (bounded) before Tomcat
 * may recycle the request, so no read of this reader can touch a recycled request.
 */
final class RequestBodyReader implements ReadListener {

    private static final int CHUNK = 16 * 1024;
    static final long PAUSE_AT = 256 * 1024;
    static final long RESUME_AT = 64 * 1024;
    /** How long the end of the exchange waits for a read in progress (one that waits on Tomcat's connection lock is not waited for). */
    private static final long END_WAIT_MILLIS = 200;

    private final ServletInputStream input;
    private final AsyncRequestContent content;
    private final Consumer<Throwable> clientFailed;
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicLong pending = new AtomicLong();
    private final AtomicBoolean paused = new AtomicBoolean();
    private volatile boolean done;

    /** @param clientFailed told (once) when the client's body cannot be read: a malformed or cut body */
    RequestBodyReader(ServletInputStream input, AsyncRequestContent content, Consumer<Throwable> clientFailed) {
        this.input = input;
        this.content = content;
        this.clientFailed = clientFailed;
    }

    @Override
    public void onDataAvailable() {
        pump();
    }

    @Override
    public void onAllDataRead() {
        lock.lock();
        try {
            finish();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onError(Throwable failure) {
        failClient(failure);
    }

    /** True when the whole body was read and handed on. */
    boolean isComplete() {
        return done && pending.get() == 0 && input.isFinished();
    }

    private void pump() {
        lock.lock();
        try {
            while (!done) {
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
                    pending.addAndGet(n);
                    content.write(ByteBuffer.wrap(buffer, 0, n), Callback.from(() -> sent(n), this::backendFailed));
                }
            }
        } catch (IOException | RuntimeException e) {
            failClient(e);
        } finally {
            lock.unlock();
        }
    }

    private void sent(int n) {
        if (pending.addAndGet(-n) < RESUME_AT && paused.compareAndSet(true, false)) {
            pump();
        }
    }

    private void finish() {
        if (!done) {
            done = true;
            content.close();
        }
    }

    private void backendFailed(Throwable failure) {
        done = true;
    }

    private void failClient(Throwable failure) {
        boolean first;
        lock.lock();
        try {
            first = !done;
            done = true;
        } finally {
            lock.unlock();
        }
        if (first) {
            // answer first: failing the content aborts the backend request, whose failure must find the exchange answered
            clientFailed.accept(failure);
            content.fail(failure);
        }
    }

    /**
     * The client's exchange is over: no read may follow. Waits (briefly) for a read in
     * progress, so that it cannot overlap Tomcat's recycling of the request.
     */
    void clientEnded(Throwable failure) {
        boolean locked = false;
        try {
            locked = lock.tryLock(END_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            boolean open = !done;
            done = true;
            if (open) {
                content.fail(failure != null ? failure : new IOException("the client's exchange ended"));
            }
        } finally {
            if (locked) {
                lock.unlock();
            }
        }
    }
}
