package dev.portico.forward;

import java.io.IOException;
import java.nio.channels.WritePendingException;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;

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
 */
final class ResponseStreamer implements WriteListener {

    private enum Step { IDLE, WRITE, FLUSH, DONE }

    private final ServletOutputStream output;
    private final Response backendResponse;
    private Step step = Step.IDLE;
    private byte[] buffer;
    private int offset;
    private int length;
    private boolean flush;
    /** Bytes of a declared Content-Length not yet offered; negative when the length is not known. */
    private long remaining;
    private Callback callback;

    ResponseStreamer(ServletOutputStream output, Response backendResponse) {
        this.output = output;
        this.backendResponse = backendResponse;
        this.remaining = declaredLength(backendResponse);
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
     * Takes the next chunk. It is flushed unless it completes a body whose Content-Length the
     * backend declared: the end of the response follows at once and writes it anyway, so a
     * flush there would only cost a second write (and, for a small response, a second packet).
     */
    void offer(byte[] bytes, int offset, int length, Callback callback) {
        if (step != Step.IDLE) {
            throw new WritePendingException();
        }
        this.buffer = bytes;
        this.offset = offset;
        this.length = length;
        if (remaining >= 0) {
            remaining -= length;
        }
        this.flush = remaining != 0;
        this.callback = callback;
        this.step = Step.WRITE;
    }

    @Override
    public void onWritePossible() throws IOException {
        while (true) {
            switch (step) {
                case IDLE:
                    return;
                case WRITE:
                    output.write(buffer, offset, length);
                    step = flush ? Step.FLUSH : Step.DONE;
                    break;
                case FLUSH:
                    output.flush();
                    step = Step.DONE;
                    break;
                case DONE:
                    Callback done = callback;
                    buffer = null;
                    callback = null;
                    step = Step.IDLE;
                    // last: the callback may deliver the next chunk and re-enter offer()
                    done.succeeded();
                    return;
                default:
                    throw new IllegalStateException(step.name());
            }
            if (!output.isReady()) {
                return;
            }
        }
    }

    @Override
    public void onError(Throwable failure) {
        Callback pending = callback;
        callback = null;
        step = Step.IDLE;
        if (pending != null) {
            pending.failed(failure);
        }
        backendResponse.abort(failure);
    }
}
