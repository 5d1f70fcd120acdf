package dev.portico.forward;

import java.io.IOException;
import java.nio.channels.WritePendingException;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;

import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Writes backend response content to the client without blocking, and flushes every chunk:
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
    private Callback callback;

    ResponseStreamer(ServletOutputStream output, Response backendResponse) {
        this.output = output;
        this.backendResponse = backendResponse;
    }

    /**
     * @param flush false when the chunk will be followed by the end of the response anyway
     */
    void offer(byte[] bytes, int offset, int length, boolean flush, Callback callback) {
        if (step != Step.IDLE) {
            throw new WritePendingException();
        }
        this.buffer = bytes;
        this.offset = offset;
        this.length = length;
        this.flush = flush;
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
