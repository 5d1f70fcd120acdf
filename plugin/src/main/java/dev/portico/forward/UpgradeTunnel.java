package dev.portico.forward;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.WebConnection;

/**
 * After a backend switched protocols (WebSocket or any other HTTP upgrade), relays bytes both
 * ways between the client's upgraded connection and the backend socket, without holding a
 * thread: the client side uses Servlet non-blocking I/O, the backend side an asynchronous
 * channel. Each direction is a two-step loop — read one buffer, write it, read again — so a slow
 * reader on either side slows its writer (back-pressure) instead of filling memory.
 * The end of one direction is passed on as a half-close; an error closes both.
 */
public final class UpgradeTunnel implements HttpUpgradeHandler {

    private static final int BUFFER_SIZE = 16 * 1024;

    private AsynchronousSocketChannel backend;
    private ByteBuffer early;
    private WebConnection client;
    private volatile boolean closed;

    /** Tomcat creates the handler; Portico hands it the backend before Tomcat calls {@link #init}. */
    public UpgradeTunnel() {
    }

    void attach(AsynchronousSocketChannel backendChannel, ByteBuffer bytesAfterHead) {
        this.backend = backendChannel;
        this.early = bytesAfterHead;
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
            close();
        }
    }

    @Override
    public void destroy() {
        close();
    }

    private void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            backend.close();
        } catch (IOException ignored) {
            // already closed
        }
        try {
            if (client != null) {
                client.close();
            }
        } catch (Exception ignored) {
            // already closed
        }
    }

    /** Client → backend: read what the client sent, write it to the backend, read again. */
    private final class ClientToBackend implements ReadListener, CompletionHandler<Integer, Void> {
        private final ServletInputStream in;
        private final byte[] bytes = new byte[BUFFER_SIZE];
        private final ByteBuffer buffer = ByteBuffer.wrap(bytes);
        private boolean writing;

        ClientToBackend(ServletInputStream in) {
            this.in = in;
        }

        @Override
        public void onDataAvailable() {
            pump();
        }

        private synchronized void pump() {
            try {
                while (!writing && !closed && in.isReady()) {
                    int n = in.read(bytes);
                    if (n < 0) {
                        return; // onAllDataRead follows
                    }
                    if (n > 0) {
                        writing = true;
                        buffer.clear().limit(n);
                        backend.write(buffer, null, this);
                    }
                }
            } catch (IOException | RuntimeException e) {
                close();
            }
        }

        @Override
        public void completed(Integer written, Void attachment) {
            if (buffer.hasRemaining()) {
                backend.write(buffer, null, this);
                return;
            }
            synchronized (this) {
                writing = false;
            }
            pump();
        }

        @Override
        public void failed(Throwable failure, Void attachment) {
            close();
        }

        @Override
        public void onAllDataRead() {
            try {
                backend.shutdownOutput();
            } catch (IOException e) {
                close();
            }
        }

        @Override
        public void onError(Throwable failure) {
            close();
        }
    }

    /** Backend → client: read from the backend, write to the client, and when it can take more, read again. */
    private final class BackendToClient implements WriteListener, CompletionHandler<Integer, Void> {
        private final ServletOutputStream out;
        private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_SIZE);
        private boolean started;
        private boolean waitingForClient;

        BackendToClient(ServletOutputStream out) {
            this.out = out;
        }

        @Override
        public synchronized void onWritePossible() {
            if (!started) {
                started = true;
                if (early != null && early.hasRemaining()) {
                    writeToClient(early);
                } else {
                    readBackend();
                }
            } else if (waitingForClient) {
                waitingForClient = false;
                readBackend();
            }
        }

        private void readBackend() {
            if (closed) {
                return;
            }
            buffer.clear();
            backend.read(buffer, null, this);
        }

        @Override
        public synchronized void completed(Integer read, Void attachment) {
            if (read < 0) {
                close();
                return;
            }
            buffer.flip();
            writeToClient(buffer);
        }

        private void writeToClient(ByteBuffer data) {
            try {
                out.write(data.array(), data.arrayOffset() + data.position(), data.remaining());
                data.position(data.limit());
                if (out.isReady()) {
                    out.flush();
                }
                if (out.isReady()) {
                    readBackend();
                } else {
                    waitingForClient = true;
                }
            } catch (IOException | RuntimeException e) {
                close();
            }
        }

        @Override
        public void failed(Throwable failure, Void attachment) {
            close();
        }

        @Override
        public void onError(Throwable failure) {
            close();
        }
    }
}
