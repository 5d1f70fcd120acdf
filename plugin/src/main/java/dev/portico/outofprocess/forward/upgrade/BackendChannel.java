package dev.portico.outofprocess.forward.upgrade;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Invocable.InvocationType;

/**
 * A raw byte connection to a backend, over TCP or a Unix domain socket alike: what an upgraded
 * (WebSocket) request is relayed over once the backend has switched protocols. It is an endpoint
 * of the forwarding client's own {@code ClientConnector} (Java's asynchronous socket channels have
 * no Unix domain sockets), so reads wait on the client's selector and hold no thread, and the
 * tunnel is written against one interface whichever transport the app uses.
 *
 * <p>Completions run on the client's selector thread that saw the socket ready (they only complete
 * a future someone waits on, or relay to Tomcat without blocking): no hand-off to a pool thread per
 * event, and opening thousands of tunnels at once does not grow the client's pool to its maximum
 * (Jetty's pool then shrinks by one thread per idle timeout).
 *
 * <p>One read and one write may be outstanding at a time (one per direction of a tunnel). A read
 * can wait without a buffer ({@link #whenReadable}, then {@link #fill}): what an idle tunnel
 * costs is the endpoint, not 16 KiB waiting for bytes that may not come for hours.
 */
public final class BackendChannel implements AutoCloseable {

    private final EndPoint endPoint;
    private final ByteBufferPool buffers;
    private final Runnable onClose;

    /** @param buffers the forwarding client's own pool, which a tunnel borrows from only while bytes cross it */
    public BackendChannel(EndPoint endPoint, ByteBufferPool buffers, Runnable onClose) {
        this.endPoint = endPoint;
        this.buffers = buffers;
        this.onClose = onClose;
        // an idle tunnel is a quiet WebSocket, not a dead backend: it stays open until an end closes it
        endPoint.setIdleTimeout(0);
    }

    /**
     * Reads what has arrived, waiting (without a thread) until something has.
     *
     * @param into a buffer with room from its position to its limit; its position moves past the bytes read
     * @return the number of bytes read, or -1 when the backend has closed its end
     */
    public CompletableFuture<Integer> read(ByteBuffer into) {
        CompletableFuture<Integer> result = new CompletableFuture<>();
        readNow(into, result);
        return result;
    }

    private void readNow(ByteBuffer into, CompletableFuture<Integer> result) {
        try {
            // Jetty fills after a buffer's limit: an empty view of the free space
            ByteBuffer room = into.slice().limit(0);
            int read = endPoint.fill(room);
            if (read != 0) {
                if (read > 0) {
                    into.position(into.position() + read);
                }
                result.complete(read);
                return;
            }
            endPoint.fillInterested(Callback.from(InvocationType.NON_BLOCKING, () -> readNow(into, result), result::completeExceptionally));
        } catch (IOException | RuntimeException e) {
            result.completeExceptionally(e);
        }
    }

    /**
     * Reads what has arrived without waiting, appending after {@code buffer}'s limit (Jetty's
     * flush mode: a buffer fresh from the pool is empty with room to its capacity).
     *
     * @return the number of bytes read, 0 when none are there yet, -1 when the backend has closed its end
     */
    int fill(ByteBuffer buffer) throws IOException {
        return endPoint.fill(buffer);
    }

    /**
     * Calls {@code readable} once bytes (or the end) can be read, holding no buffer and no thread
     * until then; on the selector thread if its invocation type is non-blocking. {@code readable}
     * fails if the channel closes first.
     */
    void whenReadable(Callback readable) {
        endPoint.fillInterested(readable);
    }

    /** The pool a tunnel borrows its buffers from, so that busy tunnels share the buffers the forwarding client recycles. */
    ByteBufferPool buffers() {
        return buffers;
    }

    /** Writes all of {@code buffer}'s remaining bytes; completes when the kernel has taken them. */
    public CompletableFuture<Void> write(ByteBuffer buffer) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            endPoint.write(Callback.from(InvocationType.NON_BLOCKING, () -> done.complete(null), done::completeExceptionally), buffer);
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    /** The client has finished sending: a half-close, so that the backend reads its end. */
    void shutdownOutput() {
        endPoint.shutdownOutput();
    }

    @Override
    public void close() {
        endPoint.close();
        onClose.run();
    }

    /**
     * The Jetty connection of a backend channel: it only holds the endpoint. Bytes are read by
     * {@link BackendChannel#read}, never by Jetty calling {@link #onFillable}.
     */
    public static final class Holder extends AbstractConnection {

        public Holder(EndPoint endPoint, java.util.concurrent.Executor executor) {
            super(endPoint, executor);
        }

        @Override
        public void onFillable() {
            // no fill interest is ever registered through this connection
        }
    }
}
