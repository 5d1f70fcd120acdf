package dev.portico.outofprocess.forward.upgrade;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
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
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Invocable.InvocationType;

/**
 * After a backend switched protocols (WebSocket or any other HTTP upgrade), relays bytes both
 * ways between the client's upgraded connection and the backend socket: the client side uses
 * Servlet non-blocking I/O, the backend side a {@link BackendChannel} on the forwarding client's
 * selector (a port or a Unix domain socket alike), and no thread waits on an idle tunnel. Each
 * direction is a loop — read, write, read again — so a slow reader on either side slows its writer
 * (back-pressure) instead of filling memory. No buffer waits on an idle tunnel either: bytes are
 * read into a buffer only once they are there, and it is dropped or given back once written
 * (Tomcat's own per-connection buffers remain).
 * The end of one direction is passed on as a half-close; an error closes both.
 */
public final class UpgradeTunnel implements HttpUpgradeHandler {

    private static final Log log = LogFactory.getLog(UpgradeTunnel.class);

    private static final int BUFFER_SIZE = 16 * 1024;
    /** Client bytes waiting for the backend before reading pauses. */
    static final long QUEUE_LIMIT = 256 * 1024;
    /** Client bytes waiting for the backend past which not even what Tomcat already holds is taken. */
    static final long QUEUE_CAP = 2 * QUEUE_LIMIT;
    /** How long the container thread waits for the backend to take some of them before it lets go of the connection. */
    static final long QUEUE_WAIT_MILLIS = 10;

    private BackendChannel backend;
    private ByteBuffer early;
    private WebConnection client;
    private volatile boolean closed;
    private ClientToBackend toBackend;
    private BackendToClient toClient;
    /** The client's output said not ready: Tomcat owes a write event, which it can deliver only once no read event holds the connection. */
    private volatile boolean clientOutputBlocked;
    private final AtomicReference<Runnable> onClose = new AtomicReference<>();

    /** Tomcat creates the handler; Portico hands it the backend before Tomcat calls {@link #init}. */
    public UpgradeTunnel() {
    }

    /** @param closed runs once when the tunnel closes, from either end: the upgraded request is in flight until then */
    public void attach(BackendChannel backendChannel, ByteBuffer bytesAfterHead, Runnable closed) {
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
            toClient = new BackendToClient(out);
            out.setWriteListener(toClient);
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
        if (toClient != null) {
            toClient.giveBackOnClose();
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

        /**
         * Once {@code isReady()} said yes, Tomcat holds client bytes in its own buffer, and no read
         * event comes for them after this returns (a client waiting for the echo of its last bytes
         * sends nothing more): they are taken even past the limit, up to {@value #QUEUE_CAP}, and
         * then this returns without asking {@code isReady()} again (which would pull in more).
         */
        @Override
        public void onDataAvailable() {
            try {
                while (!closed && in.isReady()) {
                    boolean room = roomWithin(QUEUE_WAIT_MILLIS);
                    if (!room && !belowCap()) {
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
                    if (!room) {
                        return;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close(e);
            } catch (IOException | RuntimeException e) {
                close(e);
            }
        }

        private synchronized boolean belowCap() {
            return queued < QUEUE_CAP;
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
     * Backend → client: wait until the backend has bytes (no buffer while waiting), borrow a
     * buffer from the forwarding client's pool, read, write to the client and give the buffer back
     * (Tomcat has taken or copied the bytes once {@code write} returns), flush, and read again once
     * the client can take more. Every write and flush directly follows an {@code isReady()} that
     * said yes, as Tomcat requires; when it says no, {@code onWritePossible} resumes the loop, and
     * nothing more is read from the backend until then: a slow client slows the backend
     * (back-pressure), holding at most one buffer. The backend's readiness is reported on the
     * forwarding client's selector thread.
     */
    private final class BackendToClient implements WriteListener, Callback {
        private final ServletOutputStream out;
        /** bytes read and not yet written to the client: the handshake's leftover, or the borrowed buffer's */
        private ByteBuffer pending;
        private RetainableByteBuffer borrowed;
        private boolean unflushed;
        private boolean waitingForBackend;

        BackendToClient(ServletOutputStream out) {
            this.out = out;
            if (early != null && early.hasRemaining()) {
                pending = early;
            }
            early = null;
        }

        @Override
        public void onWritePossible() {
            clientOutputBlocked = false;
            drain();
        }

        /** The backend has bytes to read (or has closed its end). */
        @Override
        public synchronized void succeeded() {
            waitingForBackend = false;
            drain();
        }

        /** Relaying to the client never blocks (Tomcat's non-blocking output): this runs on the selector thread that saw the bytes. */
        @Override
        public InvocationType getInvocationType() {
            return InvocationType.NON_BLOCKING;
        }

        /** Waiting for the backend failed: it was closed, by either end. */
        @Override
        public void failed(Throwable failure) {
            close(failure);
        }

        private synchronized void drain() {
            try {
                while (!closed) {
                    if (!writePending() || waitingForBackend || !clientReady(out) || !readBackend()) {
                        return;
                    }
                }
            } catch (IOException | RuntimeException e) {
                close(e);
            }
        }

        /** Writes and flushes what is waiting for the client. @return false when the client cannot take more now */
        private boolean writePending() throws IOException {
            if (pending != null) {
                if (!clientReady(out)) {
                    return false;
                }
                out.write(pending.array(), pending.arrayOffset() + pending.position(), pending.remaining());
                pending = null;
                giveBack();
                unflushed = true;
            }
            if (unflushed) {
                if (!clientReady(out)) {
                    return false;
                }
                out.flush();
                unflushed = false;
            }
            return true;
        }

        /**
         * Reads what the backend has into a borrowed buffer. @return true when something was read
         * (it is pending now); false when nothing was there (the buffer goes back, and the
         * backend's selector calls again when there is) or the backend closed
         */
        private boolean readBackend() throws IOException {
            borrowed = backend.buffers().acquire(BUFFER_SIZE, false);
            ByteBuffer buffer = borrowed.getByteBuffer();
            int read = backend.fill(buffer);
            if (read > 0) {
                pending = buffer;
                return true;
            }
            giveBack();
            if (read < 0) {
                close();
            } else {
                waitingForBackend = true;
                backend.whenReadable(this);
            }
            return false;
        }

        /** A pooled buffer not given back stays the pool's entry for good: whatever was pending is dropped with the tunnel. */
        synchronized void giveBackOnClose() {
            pending = null;
            giveBack();
        }

        private void giveBack() {
            if (borrowed != null) {
                borrowed.release();
                borrowed = null;
            }
        }

        @Override
        public void onError(Throwable failure) {
            close(failure);
        }
    }
}
