package dev.portico.testsupport;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * HTTP/1.1 over a raw {@link Socket} on 127.0.0.1, for what {@code java.net.http} will not send or
 * will not show: exact bytes on the wire (hostile input, chunked bodies, {@code Expect}), keep-alive
 * reuse of one connection, interim 1xx responses, HEAD, bodies that end when the server closes, and
 * whether the server closed the connection after a response. Every read has a timeout, so no test
 * hangs on a silent server.
 */
public final class RawHttp {

    /** How long a read may wait for the next byte unless a test says otherwise. */
    public static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
    private static final int MAX_HEAD_BYTES = 64 * 1024;

    private RawHttp() {
    }

    public static Connection connect(int port) {
        return connect(port, READ_TIMEOUT);
    }

    /** @throws UncheckedIOException when nothing accepts on the port */
    public static Connection connect(int port, Duration readTimeout) {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            socket.setSoTimeout((int) readTimeout.toMillis());
            socket.setTcpNoDelay(true);
            return new Connection(socket);
        } catch (IOException e) {
            closeQuietly(socket);
            throw new UncheckedIOException("cannot connect to 127.0.0.1:" + port, e);
        }
    }

    /** The head of a request: request line, {@code Host: 127.0.0.1}, the given header lines, CRLF. */
    public static byte[] head(String method, String target, String... headerLines) {
        StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                .append("Host: 127.0.0.1\r\n");
        for (String line : headerLines) {
            head.append(line).append("\r\n");
        }
        return latin1(head.append("\r\n").toString());
    }

    /** A body in chunked coding, cut into chunks of at most {@code chunkSize} bytes, with the last chunk. */
    public static byte[] chunked(byte[] body, int chunkSize) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + body.length / Math.max(1, chunkSize) * 8 + 8);
        for (int offset = 0; offset < body.length; offset += chunkSize) {
            int length = Math.min(chunkSize, body.length - offset);
            out.writeBytes(latin1(Integer.toHexString(length) + "\r\n"));
            out.write(body, offset, length);
            out.writeBytes(latin1("\r\n"));
        }
        out.writeBytes(latin1("0\r\n\r\n"));
        return out.toByteArray();
    }

    public static byte[] latin1(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /**
     * A request body and how it goes on the wire: with {@code Content-Length}, or chunked in chunks of
     * {@code chunkSize} (0: not chunked); and whether the request says {@code Expect: 100-continue}.
     */
    public record Body(byte[] bytes, int chunkSize, Expectation expectation) {

        /** What the client does about {@code Expect: 100-continue}. */
        public enum Expectation {
            /** No Expect header. */
            NONE,
            /** Sends the body only after the server's {@code 100 Continue}. */
            WAIT_FOR_CONTINUE,
            /** Says it, then sends the body at once (RFC 9110 lets a client stop waiting at any time). */
            SEND_AT_ONCE
        }

        public static Body sized(byte[] bytes) {
            return new Body(bytes, 0, Expectation.NONE);
        }

        public static Body chunked(byte[] bytes, int chunkSize) {
            if (chunkSize <= 0) {
                throw new IllegalArgumentException("chunk size " + chunkSize);
            }
            return new Body(bytes, chunkSize, Expectation.NONE);
        }

        /** The same body, sent after {@code Expect: 100-continue} is answered. */
        public Body expectingContinue() {
            return new Body(bytes, chunkSize, Expectation.WAIT_FOR_CONTINUE);
        }

        /** The same body, announced with {@code Expect: 100-continue} but sent without waiting. */
        public Body expectingContinueWithoutWaiting() {
            return new Body(bytes, chunkSize, Expectation.SEND_AT_ONCE);
        }

        boolean isChunked() {
            return chunkSize > 0;
        }

        String framingHeader() {
            return isChunked() ? "Transfer-Encoding: chunked" : "Content-Length: " + bytes.length;
        }

        byte[] wire() {
            return isChunked() ? RawHttp.chunked(bytes, chunkSize) : bytes;
        }
    }

    /** One client connection. Not thread-safe, except that one thread may send while another reads. */
    public static final class Connection implements AutoCloseable {

        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private int responses;
        private boolean reusable = true;

        private Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
            this.out = socket.getOutputStream();
        }

        /** Responses fully read on this connection so far. */
        public int responses() {
            return responses;
        }

        /**
         * False once a response said {@code Connection: close}, or an {@link #exchange} got a final
         * answer to {@code Expect: 100-continue} and so never sent its body: the next request needs a
         * new connection.
         */
        public boolean reusable() {
            return reusable;
        }

        public Connection send(byte[]... parts) throws IOException {
            for (byte[] part : parts) {
                out.write(part);
            }
            out.flush();
            return this;
        }

        public Connection send(String latin1Text) throws IOException {
            return send(latin1(latin1Text));
        }

        /**
         * Sends a request ({@link RawHttp#head} plus {@code headerLines} and the body's framing, or no
         * body when {@code body} is null) and reads its final response. With
         * {@link Body#expectingContinue()} the body follows only an interim answer; a final answer
         * instead is returned as it is, the body unsent (and the connection no longer {@link #reusable}).
         * The head and the body go in two writes.
         */
        public Response exchange(String method, String target, Body body, String... headerLines) throws IOException {
            List<String> headers = new ArrayList<>(Arrays.asList(headerLines));
            if (body != null) {
                headers.add(body.framingHeader());
                if (body.expectation() != Body.Expectation.NONE) {
                    headers.add("Expect: 100-continue");
                }
            }
            send(head(method, target, headers.toArray(String[]::new)));
            if (body != null && body.expectation() == Body.Expectation.WAIT_FOR_CONTINUE) {
                Head head = readHead();
                if (!head.isInterim()) {
                    Response refused = readBody(head, method);
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
        public Head readHead() throws IOException {
            String statusLine = readLine(true);
            List<HeaderField> headers = new ArrayList<>();
            int total = statusLine.length();
            for (String line; !(line = readLine(false)).isEmpty(); ) {
                total += line.length();
                if (total > MAX_HEAD_BYTES) {
                    throw new IOException("response head longer than " + MAX_HEAD_BYTES + " bytes");
                }
                int colon = line.indexOf(':');
                headers.add(colon < 0 ? new HeaderField(line, "")
                        : new HeaderField(line.substring(0, colon).trim(), line.substring(colon + 1).trim()));
            }
            return new Head(statusLine, List.copyOf(headers));
        }

        /** Reads a whole final response (skipping 1xx) to a request with the given method. */
        public Response readResponse(String requestMethod) throws IOException {
            Head head;
            do {
                head = readHead();
            } while (head.isInterim());
            return readBody(head, requestMethod);
        }

        /** Reads the body that belongs to {@code head} (a final response). */
        public Response readBody(Head head, String requestMethod) throws IOException {
            byte[] body;
            try (InputStream stream = bodyStream(head, requestMethod)) {
                body = stream.readAllBytes();
            }
            responses++;
            if (head.closesConnection()) {
                reusable = false;
            }
            return new Response(head, body);
        }

        /** The decoded body of a final response as a stream (chunked, Content-Length or until close). */
        public InputStream bodyStream(Head head, String requestMethod) throws IOException {
            if ("HEAD".equals(requestMethod) || head.status() == 204 || head.status() == 304) {
                return InputStream.nullInputStream();
            }
            if (head.header("Transfer-Encoding").map(v -> v.toLowerCase(Locale.ROOT).contains("chunked")).orElse(false)) {
                return new ChunkedInput(this);
            }
            Optional<String> length = head.header("Content-Length");
            if (length.isPresent()) {
                return new LimitedInput(in, Long.parseLong(length.get()));
            }
            return new LimitedInput(in, -1);
        }

        /** Reads up to {@code max} bytes as they arrive (a stream's next piece), none when the connection ended. */
        public byte[] readSome(int max) throws IOException {
            byte[] buffer = new byte[max];
            int n = in.read(buffer);
            return n < 0 ? new byte[0] : Arrays.copyOf(buffer, n);
        }

        /** Reads {@code n} bytes, or fewer when the connection ends first (what an upgraded connection echoes). */
        public byte[] readBytes(int n) throws IOException {
            return in.readNBytes(n);
        }

        /** True if the server closes the connection (end of stream) within {@code wait}; false if it stays open. */
        public boolean closedByServerWithin(Duration wait) throws IOException {
            int previous = socket.getSoTimeout();
            socket.setSoTimeout((int) Math.max(1, wait.toMillis()));
            try {
                int b = in.read();
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
            closeQuietly(socket);
        }

        @Override
        public void close() {
            closeQuietly(socket);
        }

        String readLine(boolean firstOfResponse) throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream(128);
            while (true) {
                int b = in.read();
                if (b < 0) {
                    if (firstOfResponse && line.size() == 0) {
                        throw new EOFException("the server closed the connection without a response");
                    }
                    throw new EOFException("the server closed the connection in the middle of a line: "
                            + line.toString(StandardCharsets.ISO_8859_1));
                }
                if (b == '\n') {
                    break;
                }
                if (b != '\r') {
                    line.write(b);
                }
                if (line.size() > MAX_HEAD_BYTES) {
                    throw new IOException("line longer than " + MAX_HEAD_BYTES + " bytes");
                }
            }
            return line.toString(StandardCharsets.ISO_8859_1);
        }

        InputStream input() {
            return in;
        }
    }

    /**
     * One client that keeps its connection across requests while the server allows it: a new
     * connection after a response that closed it ({@link Connection#reusable()}) or after an
     * exchange that failed (its exception is rethrown). {@link #close()} may come from another
     * thread, to end a read that hangs.
     */
    public static final class KeepAlive implements AutoCloseable {
        private final int port;
        private final Duration readTimeout;
        private volatile Connection connection;

        public KeepAlive(int port, Duration readTimeout) {
            this.port = port;
            this.readTimeout = readTimeout;
        }

        /** True if the next request goes over a connection that already served a response. */
        public boolean reusing() {
            Connection current = connection;
            return current != null && current.responses() > 0;
        }

        /** True while a connection is open for the next request. */
        public boolean connected() {
            return connection != null;
        }

        /** {@link Connection#exchange} on the kept connection, a new one if there is none. */
        public Response exchange(String method, String target, Body body, String... headerLines) throws IOException {
            Connection current = connection;
            if (current == null) {
                current = connect(port, readTimeout);
                connection = current;
            }
            try {
                Response response = current.exchange(method, target, body, headerLines);
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
            Connection current = connection;
            connection = null;
            if (current != null) {
                current.close();
            }
        }
    }

    /** One header line of a response, as it arrived. */
    public record HeaderField(String name, String value) {
        @Override
        public String toString() {
            return name + ": " + value;
        }
    }

    /** Status line and headers of one response. */
    public record Head(String statusLine, List<HeaderField> headers) {

        public int status() {
            String[] parts = statusLine.split(" ", 3);
            try {
                return parts.length >= 2 && parts[0].startsWith("HTTP/") ? Integer.parseInt(parts[1]) : -1;
            } catch (NumberFormatException e) {
                return -1;
            }
        }

        /** 1xx but 101: a 101 ends HTTP on the connection rather than announcing a response. */
        public boolean isInterim() {
            int status = status();
            return status >= 100 && status < 200 && status != 101;
        }

        /** The first value of the header, if any. */
        public Optional<String> header(String name) {
            return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(HeaderField::value).findFirst();
        }

        /** Every value of the header, one per header line, in order. */
        public List<String> values(String name) {
            return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(HeaderField::value).toList();
        }

        /** The response says the server closes the connection after it. */
        public boolean closesConnection() {
            return headers.stream().anyMatch(h -> h.name().equalsIgnoreCase("Connection")
                    && h.value().toLowerCase(Locale.ROOT).contains("close"));
        }

        @Override
        public String toString() {
            return statusLine + headers.stream().map(HeaderField::toString).collect(Collectors.joining(", ", " {", "}"));
        }
    }

    /** A final response: head and decoded body. */
    public record Response(Head head, byte[] body) {

        public int status() {
            return head.status();
        }

        public Optional<String> header(String name) {
            return head.header(name);
        }

        public boolean closesConnection() {
            return head.closesConnection();
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return head.statusLine() + " (" + body.length + " bytes"
                    + (closesConnection() ? ", Connection: close" : "") + ")";
        }
    }

    /** The server closed the connection before the whole {@code Content-Length} of a body had come. */
    public static final class TruncatedBody extends EOFException {
        private static final long serialVersionUID = 1L;

        TruncatedBody(long missing) {
            super("body cut: the server closed the connection with " + missing
                    + " bytes of the Content-Length still to come");
        }
    }

    /** A decoded body: the single-byte read in terms of the bulk read. */
    private abstract static class BodyInput extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }
    }

    /** A body of a known length, or (length &lt; 0) one that ends when the server closes the connection. */
    private static final class LimitedInput extends BodyInput {
        private final InputStream in;
        private final boolean untilClose;
        private long remaining;

        LimitedInput(InputStream in, long length) {
            this.in = in;
            this.untilClose = length < 0;
            this.remaining = untilClose ? Long.MAX_VALUE : length;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, remaining));
            if (n < 0) {
                if (untilClose) {
                    remaining = 0;
                    return -1;
                }
                throw new TruncatedBody(remaining);
            }
            remaining -= n;
            return n;
        }
    }

    private static final class ChunkedInput extends BodyInput {
        private final Connection connection;
        private long remainingInChunk;
        private boolean done;

        ChunkedInput(Connection connection) {
            this.connection = connection;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (remainingInChunk == 0) {
                String sizeLine = connection.readLine(false);
                int semicolon = sizeLine.indexOf(';');
                String hex = (semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim();
                try {
                    remainingInChunk = Long.parseLong(hex, 16);
                } catch (NumberFormatException e) {
                    throw new IOException("bad chunk size line from the server: " + sizeLine);
                }
                if (remainingInChunk == 0) {
                    while (!connection.readLine(false).isEmpty()) {
                        // trailer fields
                    }
                    done = true;
                    return -1;
                }
            }
            int n = connection.input().read(b, off, (int) Math.min(len, remainingInChunk));
            if (n < 0) {
                throw new EOFException("the server closed the connection inside a chunk");
            }
            remainingInChunk -= n;
            if (remainingInChunk == 0 && !connection.readLine(false).isEmpty()) {
                throw new IOException("chunk data not followed by CRLF");
            }
            return n;
        }
    }
}
