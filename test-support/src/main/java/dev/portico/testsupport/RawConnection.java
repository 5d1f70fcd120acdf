package dev.portico.testsupport;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One client connection, opened by {@link RawHttp#connect}: what goes out as given, what comes back
 * read as responses or as raw bytes. Not thread-safe, except that one thread may send while another
 * reads.
 */
public final class RawConnection implements AutoCloseable {

    private final Socket socket;
    private final ResponseLineReader incoming;
    private final OutputStream out;
    private int responsesRead;
    private boolean reusable = true;

    RawConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.incoming = new ResponseLineReader(new BufferedInputStream(socket.getInputStream(), 64 * 1024));
        this.out = socket.getOutputStream();
    }

    /** Responses fully read on this connection so far. */
    public int responses() {
        return responsesRead;
    }

    /**
     * False once a response said {@code Connection: close}, or an {@link #exchange} got a final
     * answer to {@code Expect: 100-continue} and so never sent its body: the next request needs a
     * new connection.
     */
    public boolean reusable() {
        return reusable;
    }

    public RawConnection send(byte[]... parts) throws IOException {
        for (byte[] part : parts) {
            out.write(part);
        }
        out.flush();
        return this;
    }

    public RawConnection send(String latin1Text) throws IOException {
        return send(RawHttp.latin1(latin1Text));
    }

    /**
     * Sends a request ({@link RawHttp#head} plus {@code headerLines} and the body's framing, or no
     * body when {@code body} is null) and reads its final response. With
     * {@link RawRequestBody#expectingContinue()} the body follows only an interim answer; a final
     * answer instead is returned as it is, the body unsent (and the connection no longer
     * {@link #reusable}). The head and the body go in two writes.
     */
    public RawResponse exchange(String method, String target, RawRequestBody body, String... headerLines)
            throws IOException {
        List<String> headers = new ArrayList<>(Arrays.asList(headerLines));
        if (body != null) {
            headers.add(body.framingHeader());
            if (body.expectation() != RawRequestBody.Expectation.NONE) {
                headers.add("Expect: 100-continue");
            }
        }
        send(RawHttp.head(method, target, headers.toArray(String[]::new)));
        if (body != null && body.expectation() == RawRequestBody.Expectation.WAIT_FOR_CONTINUE) {
            RawResponseHead head = readHead();
            if (!head.isInterim()) {
                RawResponse refused = readBody(head, method);
                reusable = false;
                return refused;
            }
        }
        if (body != null) {
            send(body.wire());
        }
        return readResponse(method);
    }

    public void setReadTimeout(Duration timeout) throws SocketException {
        socket.setSoTimeout((int) timeout.toMillis());
    }

    /** Half-closes: the server reads end of stream, the client can still read. */
    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /**
     * Reads the next status line and headers, interim (1xx) responses included.
     *
     * @throws EOFException when the server closed the connection before a status line
     */
    public RawResponseHead readHead() throws IOException {
        return ResponseHeadReader.read(incoming);
    }

    /** Reads a whole final response (skipping 1xx) to a request with the given method. */
    public RawResponse readResponse(String requestMethod) throws IOException {
        RawResponseHead head;
        do {
            head = readHead();
        } while (head.isInterim());
        return readBody(head, requestMethod);
    }

    /** Reads the body that belongs to {@code head} (a final response). */
    public RawResponse readBody(RawResponseHead head, String requestMethod) throws IOException {
        byte[] body;
        try (InputStream stream = bodyStream(head, requestMethod)) {
            body = stream.readAllBytes();
        }
        responsesRead++;
        if (head.closesConnection()) {
            reusable = false;
        }
        return new RawResponse(head, body);
    }

    /** The decoded body of a final response as a stream (chunked, Content-Length or until close). */
    public InputStream bodyStream(RawResponseHead head, String requestMethod) throws IOException {
        return ResponseBodies.decoded(head, requestMethod, incoming);
    }

    /** Reads up to {@code max} bytes as they arrive (a stream's next piece), none when the connection ended. */
    public byte[] readSome(int max) throws IOException {
        byte[] buffer = new byte[max];
        int n = incoming.input().read(buffer);
        return n < 0 ? new byte[0] : Arrays.copyOf(buffer, n);
    }

    /** Reads {@code n} bytes, or fewer when the connection ends first (what an upgraded connection echoes). */
    public byte[] readBytes(int n) throws IOException {
        return incoming.input().readNBytes(n);
    }

    /** True if the server closes the connection (end of stream) within {@code wait}; false if it stays open. */
    public boolean closedByServerWithin(Duration wait) throws IOException {
        int previous = socket.getSoTimeout();
        socket.setSoTimeout((int) Math.max(1, wait.toMillis()));
        try {
            int b = incoming.input().read();
            if (b >= 0) {
                throw new IOException("unexpected byte " + b + " from the server while the connection was idle");
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset: closed too
        } finally {
            socket.setSoTimeout(previous);
        }
    }

    /** Closes at once with a reset, without reading what is left (a client that vanishes mid-stream). */
    public void abort() {
        try {
            socket.setSoLinger(true, 0);
        } catch (SocketException e) {
            // close anyway
        }
        RawHttp.closeQuietly(socket);
    }

    @Override
    public void close() {
        RawHttp.closeQuietly(socket);
    }
}
