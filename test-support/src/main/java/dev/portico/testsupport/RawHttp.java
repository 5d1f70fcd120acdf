package dev.portico.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * HTTP/1.1 over a raw {@link Socket} on 127.0.0.1, for what {@code java.net.http} will not send or
 * will not show: exact bytes on the wire (hostile input, chunked bodies, {@code Expect}), keep-alive
 * reuse of one connection, interim 1xx responses, HEAD, bodies that end when the server closes, and
 * whether the server closed the connection after a response. Every read has a timeout, so no test
 * hangs on a silent server.
 *
 * <p>The entry point: {@link #connect} opens a {@link RawConnection}; {@link RawKeepAlive} keeps one
 * across requests. A request body is a {@link RawRequestBody}; what comes back is a
 * {@link RawResponseHead} and a {@link RawResponse}.
 */
public final class RawHttp {

    /** How long a read may wait for the next byte unless a test says otherwise. */
    public static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

    private RawHttp() {
    }

    public static RawConnection connect(int port) {
        return connect(port, READ_TIMEOUT);
    }

    /** @throws UncheckedIOException when nothing accepts on the port */
    public static RawConnection connect(int port, Duration readTimeout) {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            socket.setSoTimeout((int) readTimeout.toMillis());
            socket.setTcpNoDelay(true);
            return new RawConnection(socket);
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
}
