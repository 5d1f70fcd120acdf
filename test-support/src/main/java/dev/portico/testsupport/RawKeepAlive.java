package dev.portico.testsupport;

import java.io.IOException;
import java.time.Duration;

/**
 * One client that keeps its connection across requests while the server allows it: a new
 * connection after a response that closed it ({@link RawConnection#reusable()}) or after an
 * exchange that failed (its exception is rethrown). {@link #close()} may come from another
 * thread, to end a read that hangs.
 */
public final class RawKeepAlive implements AutoCloseable {
    private final int port;
    private final Duration readTimeout;
    private volatile RawConnection connection;

    public RawKeepAlive(int port, Duration readTimeout) {
        this.port = port;
        this.readTimeout = readTimeout;
    }

    /** True if the next request goes over a connection that already served a response. */
    public boolean reusing() {
        RawConnection current = connection;
        return current != null && current.responses() > 0;
    }

    /** True while a connection is open for the next request. */
    public boolean connected() {
        return connection != null;
    }

    /** {@link RawConnection#exchange} on the kept connection, a new one if there is none. */
    public RawResponse exchange(String method, String target, RawRequestBody body, String... headerLines)
            throws IOException {
        RawConnection current = connection;
        if (current == null) {
            current = RawHttp.connect(port, readTimeout);
            connection = current;
        }
        try {
            RawResponse response = current.exchange(method, target, body, headerLines);
            if (!current.reusable()) {
                close();
            }
            return response;
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Closes the connection, if one is open; the next exchange opens another. */
    @Override
    public void close() {
        RawConnection current = connection;
        connection = null;
        if (current != null) {
            current.close();
        }
    }
}
