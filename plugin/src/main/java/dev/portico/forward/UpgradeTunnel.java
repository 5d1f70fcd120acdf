package dev.portico.forward;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.WebConnection;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * After a backend switched protocols (WebSocket or any other HTTP upgrade), relays bytes both
 * ways between the client's upgraded connection and the backend socket: the client side uses
 * Servlet non-blocking I/O, the backend side a {@link BackendChannel} on the forwarding client's
 * selector (a port or a Unix domain socket alike), and no thread waits on an idle tunnel. Each direction is a loop — read one buffer, write it, read again — so a slow
 * reader on either side slows its writer (back-pressure) instead of filling memory.
 * The end of one direction is passed on as a half-close; an error closes both.
 */
public final class UpgradeTunnel implements HttpUpgradeHandler {

    private static final Log log = LogFactory.getLog(UpgradeTunnel.class);

    private static final int BUFFER_SIZE = 16 * 1024;

    private BackendChannel backend;
    private ByteBuffer early;
    private WebConnection client;
    private volatile boolean closed;
    private final AtomicReference<Runnable> onClose = new AtomicReference<>();

    /** Tomcat creates the handler; Portico hands it the backend before Tomcat calls {@link #init}. */
    public UpgradeTunnel() {
    }

    /** @param closed runs once when the tunnel closes, from either end: the upgraded request is in flight until then */
    void attach(BackendChannel backendChannel, ByteBuffer bytesAfterHead, Runnable closed) {
        this.backend = backendChannel;
        this.early = bytesAfterHead;
        this.onClose.set(closed);
    }

    @Override
    public void init(WebConnection connection) {
        this.client = connection;
        try {
            ServletInputStream in = connection.getInputStream();
            ServletOutputStream out = connection.getOutputStream();
            in.setReadListener(new ClientToBackend(in));
            out.setWriteListener(new BackendToClient(out));
        } catch (IOException | RuntimeException e) {
            close(e);
        }
    }

    @Override
    public void destroy() {
        close();
    }

    private void close(Throwable cause) {
        if (!closed && cause != null) {
            log.debug("Upgrade tunnel closed after a failure", cause);
        }
        close();
    }

    private void close() {
        Runnable last = onClose.getAndSet(null);
        if (last != null) {
            last.run();
        }
        if (closed) {
            return;
        }
        closed = true;
        backend.close();
        try {
            if (client != null) {
                client.close();
            }
        } catch (Exception ignored) {
            // already closed
        }
    }

    /**
     * Client → backend, on the container thread Tomcat calls us on: Tomcat's upgraded input may
     * not be polled from any other thread (its read buffer is not guarded against a concurrent
     * dispatch), so each chunk is written to the backend before the next is read. A loopback
     * write completes at once unless the backend has stopped reading; only then does the thread
     * wait, which is the back-pressure the client feels. (Known limit: while it waits it holds the
     * client's connection, so a backend that stops reading until its own answer is taken — an
     * echo of a burst larger than the socket buffers, which are small on a Unix socket — stalls.)
     */
    private final class ClientToBackend implements ReadListener {
        private final ServletInputStream in;
        private final byte[] bytes = new byte[BUFFER_SIZE];

        ClientToBackend(ServletInputStream in) {
            this.in = in;
        }

        @Override
        public void onDataAvailable() {
            try {
                while (!closed && in.isReady()) {
                    int n = in.read(bytes);
                    if (n < 0) {
                        return; // onAllDataRead follows
                    }
                    backend.write(ByteBuffer.wrap(bytes, 0, n)).get();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close(e);
            } catch (IOException | ExecutionException | RuntimeException e) {
                close(e);
            }
        }

        @Override
        public void onAllDataRead() {
            try {
                backend.shutdownOutput();
            } catch (RuntimeException e) {
                close(e);
            }
        }

        @Override
        public void onError(Throwable failure) {
            close(failure);
        }
    }

    /**
     * Backend → client: read from the backend, write to the client, flush, and read again once
     * the client can take more. Every write and flush directly follows an {@code isReady()} that
     * said yes, as Tomcat requires; when it says no, {@code onWritePossible} resumes the loop.
     */
    private final class BackendToClient implements WriteListener {
        private final ServletOutputStream out;
        private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_SIZE);
        private ByteBuffer pending;
        private boolean unflushed;
        private boolean reading;

        BackendToClient(ServletOutputStream out) {
            this.out = out;
            if (early != null && early.hasRemaining()) {
                pending = early;
            }
        }

        @Override
        public void onWritePossible() {
            drain();
        }

        /** A read that completed later, on the client's selector: on with the loop. */
        private void read(Integer read, Throwable failure) {
            synchronized (this) {
                if (!took(read, failure)) {
                    return;
                }
            }
            drain();
        }

        /** @return true when the bytes read are now pending for the client; false when the tunnel closed */
        private boolean took(Integer read, Throwable failure) {
            if (failure != null) {
                close(failure instanceof CompletionException ? failure.getCause() : failure);
                return false;
            }
            if (read < 0) {
                close();
                return false;
            }
            reading = false;
            buffer.flip();
            pending = buffer;
            return true;
        }

        private synchronized void drain() {
            while (!closed) {
                try {
                    if (pending != null) {
                        if (!out.isReady()) {
                            return;
                        }
                        out.write(pending.array(), pending.arrayOffset() + pending.position(), pending.remaining());
                        pending = null;
                        unflushed = true;
                    }
                    if (unflushed) {
                        if (!out.isReady()) {
                            return;
                        }
                        out.flush();
                        unflushed = false;
                    }
                    if (reading || !out.isReady()) {
                        return;
                    }
                    reading = true;
                    buffer.clear();
                    CompletableFuture<Integer> next = backend.read(buffer);
                    if (!next.isDone()) {
                        next.whenComplete(this::read);
                        return;
                    }
                    // bytes were there already: relay them in this loop rather than by recursion
                    Integer read = null;
                    Throwable failure = null;
                    try {
                        read = next.join();
                    } catch (CompletionException e) {
                        failure = e;
                    }
                    if (!took(read, failure)) {
                        return;
                    }
                } catch (IOException | RuntimeException e) {
                    close(e);
                    return;
                }
            }
        }

        @Override
        public void onError(Throwable failure) {
            close(failure);
        }
    }
}
