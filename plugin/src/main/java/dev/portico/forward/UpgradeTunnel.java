package dev.portico.forward;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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
    /** Client bytes waiting for the backend before reading pauses. */
    static final long QUEUE_LIMIT = 256 * 1024;
    /** How long the container thread waits for the backend to take some of them before it lets go of the connection. */
    static final long QUEUE_WAIT_MILLIS = 10;

    private BackendChannel backend;
    private ByteBuffer early;
    private WebConnection client;
    private volatile boolean closed;
    private ClientToBackend toBackend;
    /** The client's output said not ready: Tomcat owes a write event, which it can deliver only once no read event holds the connection. */
    private volatile boolean clientOutputBlocked;
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
            toBackend = new ClientToBackend(in);
            in.setReadListener(toBackend);
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
     * Client → backend. Tomcat's upgraded input may only be read on the container thread Tomcat
     * calls us on (its read buffer is not guarded against a concurrent dispatch), and that thread
     * holds the client's connection: while it waits, Tomcat cannot deliver the write event the
     * other direction needs. So it never waits long. What it reads is queued for the backend and
     * written from there by whichever thread finishes the previous write; reading goes on while
     * less than {@value #QUEUE_LIMIT} bytes wait. Past that (the backend is not reading) the
     * thread waits for room at most {@value #QUEUE_WAIT_MILLIS} ms, and not at all once the other
     * direction is waiting for Tomcat's write event; then it returns without reading: Tomcat asks
     * for the connection's next read event itself, and meanwhile delivers the write events an
     * echoing backend's answer waits for. (Waiting for each write instead stalled an echoed burst
     * larger than the socket buffers: 1 MiB over a Unix socket, 32 MiB over TCP.)
     */
    private final class ClientToBackend implements ReadListener {
        private final ServletInputStream in;
        private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
        private long queued;
        private boolean writing;
        private boolean ended;

        ClientToBackend(ServletInputStream in) {
            this.in = in;
        }

        @Override
        public void onDataAvailable() {
            try {
                while (!closed && in.isReady()) {
                    if (!roomWithin(QUEUE_WAIT_MILLIS)) {
                        return;
                    }
                    byte[] bytes = new byte[BUFFER_SIZE];
                    int n = in.read(bytes);
                    if (n < 0) {
                        return; // onAllDataRead follows
                    }
                    if (n > 0) {
                        send(ByteBuffer.wrap(bytes, 0, n));
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close(e);
            } catch (IOException | RuntimeException e) {
                close(e);
            }
        }

        private synchronized boolean roomWithin(long millis) throws InterruptedException {
            long deadline = System.nanoTime() + millis * 1_000_000;
            while (queued >= QUEUE_LIMIT && !closed) {
                if (clientOutputBlocked) {
                    return false;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                wait(left / 1_000_000, (int) (left % 1_000_000));
            }
            return true;
        }

        private void send(ByteBuffer chunk) {
            synchronized (this) {
                queue.add(chunk);
                queued += chunk.remaining();
                if (writing) {
                    return;
                }
                writing = true;
            }
            writeNext(chunk);
        }

        /** Writes {@code chunk} (the head of the queue), then the next one, until the queue is empty. */
        private void writeNext(ByteBuffer chunk) {
            int length = chunk.remaining();
            backend.write(chunk).whenComplete((ignored, failure) -> {
                if (failure != null) {
                    close(failure instanceof CompletionException ? failure.getCause() : failure);
                    return;
                }
                ByteBuffer next;
                boolean shutdown = false;
                synchronized (this) {
                    queue.poll();
                    queued -= length;
                    notifyAll();
                    next = queue.peek();
                    if (next == null) {
                        writing = false;
                        shutdown = ended;
                    }
                }
                if (next != null) {
                    writeNext(next);
                } else if (shutdown) {
                    shutdownBackendOutput();
                }
            });
        }

        @Override
        public void onAllDataRead() {
            synchronized (this) {
                ended = true;
                if (writing) {
                    return; // the last write passes the end on
                }
            }
            shutdownBackendOutput();
        }

        private void shutdownBackendOutput() {
            try {
                backend.shutdownOutput();
            } catch (RuntimeException e) {
                close(e);
            }
        }

        /** The other direction now waits for Tomcat's write event: a read event waiting for room lets go. */
        synchronized void wake() {
            notifyAll();
        }

        @Override
        public void onError(Throwable failure) {
            close(failure);
        }
    }

    /** Whether the client's output is ready; when it is not, Tomcat owes a write event, and a read event waiting for room must let go of the connection. */
    private boolean clientReady(ServletOutputStream out) {
        if (out.isReady()) {
            return true;
        }
        clientOutputBlocked = true;
        ClientToBackend reader = toBackend;
        if (reader != null) {
            reader.wake();
        }
        return false;
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
            clientOutputBlocked = false;
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
                        if (!clientReady(out)) {
                            return;
                        }
                        out.write(pending.array(), pending.arrayOffset() + pending.position(), pending.remaining());
                        pending = null;
                        unflushed = true;
                    }
                    if (unflushed) {
                        if (!clientReady(out)) {
                            return;
                        }
                        out.flush();
                        unflushed = false;
                    }
                    if (reading || !clientReady(out)) {
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
