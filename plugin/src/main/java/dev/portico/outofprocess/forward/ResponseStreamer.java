package dev.portico.outofprocess.forward;

import java.io.IOException;
import java.nio.channels.WritePendingException;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;

import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.util.Callback;

/**
 * Writes backend response content to the client without blocking, and flushes every chunk
 * (but the one that completes a declared Content-Length, which the end of the response writes):
 * a server-sent event must reach the browser when the backend sends it, not when Tomcat's
 * buffer happens to fill. Jetty's own writer leaves the flush out; that is the difference.
 *
 * <pre>IDLE ─offer─▶ WRITE ─write─▶ FLUSH ─flush─▶ DONE ─callback─▶ IDLE</pre>
 * A step whose output is not ready returns and resumes in the next onWritePossible.
 *
 * <p>It is the response's WriteListener from the start of the exchange (registered on the
 * container thread, where registering cannot take Tomcat's connection lock). Its state is guarded
 * by the {@link Exchange}'s lock: chunks arrive on Jetty threads, onWritePossible comes on
 * Tomcat's, and neither writes once the client's exchange is over.
 */
final class ResponseStreamer implements WriteListener {

    private enum Step { IDLE, WRITE, FLUSH, DONE }

    /** The largest answer held until complete (one backend read at the client's buffer size: BackendClient). */
    static final int HELD_LIMIT = 64 * 1024;

    private final Exchange exchange;
    private final ServletOutputStream output;
    private Step step = Step.IDLE;
    private byte[] buffer;
    private int offset;
    private int length;
    private boolean flush;
    /** Bytes of a declared Content-Length not yet offered; negative when the length is not known. */
    private long remaining = -1;
    private boolean held;
    private boolean begun;
    private boolean called;
    private Callback callback;
    private final AtomicReference<Callback> finished = new AtomicReference<>();

    ResponseStreamer(Exchange exchange, ServletOutputStream output) {
        this.exchange = exchange;
        this.output = output;
    }

    /** The backend response's Content-Length, or -1 when it has none (chunked, or close-delimited). */
    static long declaredLength(Response backendResponse) {
        try {
            return backendResponse.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * A new response begins (under the exchange's lock). Its declared length decides the last
     * flush; and an idempotent request's answer of at most {@value #HELD_LIMIT} bytes is held in
     * the response buffer until it is complete: a backend that dies while sending it then leaves
     * nothing committed, and the request is sent again to the next process instead of reaching
     * the client cut. Streams (no declared length, such as server-sent events) are never held.
     */
    void begin(Response backendResponse, HttpServletResponse response, boolean idempotent) {
        remaining = declaredLength(backendResponse);
        begun = true;
        held = idempotent && remaining > 0 && remaining <= HELD_LIMIT;
        if (held && response.getBufferSize() < remaining) {
            response.setBufferSize((int) remaining);
        }
    }

    /** True once Tomcat has called onWritePossible in this cycle (under the exchange's lock). */
    boolean wasCalled() {
        return called;
    }

    /** True when a response with a declared length has been written to its last byte (under the exchange's lock). */
    boolean isWhole() {
        return begun && remaining == 0 && step == Step.IDLE;
    }

    /**
     * Sends a response whose declared length has been written in full (under the exchange's lock,
     * as its last action): the client then has its answer at once, not only once Tomcat's own
     * thread has taken over the end of the cycle (a complete() off Tomcat's threads is a hand-off
     * to one). Without a declared length Tomcat frames the end itself (a length it computes from
     * what it holds, or the last chunk), and nothing is sent early.
     */
    void sendWhole() throws IOException {
        if (isWhole() && output.isReady()) {
            output.flush();
        }
    }

    /**
     * Takes the next chunk, on a Jetty thread. It is flushed unless it completes a body whose
     * Content-Length the backend declared: the end of the response follows at once and writes
     * it anyway, so a flush there would only cost a second write (and a second packet).
     * When the client's exchange is over, the chunk fails, which aborts the backend response.
     */
    void offer(byte[] bytes, int offset, int length, Callback callback) {
        boolean open;
        try {
            open = exchange.gate().withClient((request, response) -> {
                if (step != Step.IDLE) {
                    throw new WritePendingException();
                }
                this.buffer = bytes;
                this.offset = offset;
                this.length = length;
                if (remaining >= 0) {
                    remaining -= length;
                }
                this.flush = remaining != 0 && !held;
                this.callback = callback;
                this.step = Step.WRITE;
                write();
            });
        } catch (ClientGate.ClientGone e) {
            fail(e.getCause());
            return;
        }
        if (!open) {
            callback.failed(new IOException("the client's exchange is over"));
            return;
        }
        succeedFinished();
    }

    @Override
    public void onWritePossible() throws IOException {
        try {
            exchange.gate().withClient((request, response) -> {
                called = true;
                write();
                if (step == Step.IDLE) {
                    exchange.gate().completeDeferred();
                }
            });
        } catch (ClientGate.ClientGone e) {
            fail(e.getCause());
            return;
        }
        succeedFinished();
    }

    /**
     * Runs the steps while the output is ready; a finished chunk's callback is left in
     * {@link #finished}. Readiness is asked before every write and flush, the first included: Tomcat may
     * deliver an onWritePossible that was queued before a Jetty thread's write made the output
     * busy again (the one due to registering the listener, typically), and writing then throws.
     */
    private void write() throws IOException {
        while (step != Step.IDLE) {
            if (step == Step.DONE) {
                // no output here: readiness is asked only before a write or a flush
                finished.set(callback);
                buffer = null;
                callback = null;
                step = Step.IDLE;
                return;
            }
            if (!output.isReady()) {
                return;
            }
            if (step == Step.WRITE) {
                output.write(buffer, offset, length);
                step = flush ? Step.FLUSH : Step.DONE;
            } else {
                output.flush();
                step = Step.DONE;
            }
        }
    }

    /** Outside the lock: the callback asks Jetty for the next chunk, which may arrive on this very thread. */
    private void succeedFinished() {
        Callback done = finished.getAndSet(null);
        if (done != null) {
            done.succeeded();
        }
    }

    /**
     * Tomcat failed a write it had pending: the client went away (it stopped reading, then reset).
     * The exchange learns it first, so that the backend response this aborts is not taken for
     * the backend's failure (a gateway failure counted against a healthy process).
     */
    @Override
    public void onError(Throwable failure) {
        exchange.gate().clientLeft();
        fail(failure);
    }

    private void fail(Throwable failure) {
        Callback pending = exchange.gate().locked(() -> {
            Callback waiting = callback;
            callback = null;
            buffer = null;
            step = Step.IDLE;
            return waiting;
        });
        if (pending != null) {
            pending.failed(failure);
        }
    }
}
