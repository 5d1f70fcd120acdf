package dev.portico.testing;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 connection over a plain socket, for tests that must control every byte a client
 * sends (keep-alive, chunked bodies, malformed requests) and see every byte that comes back.
 */
public final class RawHttp implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawHttp(int port, int readTimeoutMillis) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(readTimeoutMillis);
        socket.setTcpNoDelay(true);
        in = new java.io.BufferedInputStream(socket.getInputStream(), 64 * 1024);
        out = socket.getOutputStream();
    }

    /** A response as it arrived; {@code body} is de-chunked. */
    public record Answer(int status, Map<String, String> headers, byte[] body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public boolean closesConnection() {
            return "close".equalsIgnoreCase(header("connection"));
        }
    }

    public void send(String head) throws IOException {
        send(head.getBytes(StandardCharsets.ISO_8859_1));
    }

    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Sends {@code head} (request line and headers, without the blank line) with a Content-Length body. */
    public Answer exchange(String head, byte[] body) throws IOException {
        send(head + "Content-Length: " + body.length + "\r\n\r\n");
        send(body);
        return read();
    }

    /** Sends {@code head} with {@code body} in chunks of {@code chunkSize}. */
    public Answer exchangeChunked(String head, byte[] body, int chunkSize) throws IOException {
        ByteArrayOutputStream wire = new ByteArrayOutputStream(body.length + 64);
        wire.writeBytes((head + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        for (int i = 0; i < body.length; i += chunkSize) {
            int n = Math.min(chunkSize, body.length - i);
            wire.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            wire.write(body, i, n);
            wire.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        wire.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        send(wire.toByteArray());
        return read();
    }

    /** Reads one response (skipping 1xx interim responses); EOFException when the connection closed first. */
    public Answer read() throws IOException {
        return read(true);
    }

    /** Reads the head of one response (an answer to HEAD, say): no body is read. */
    public Answer readHead() throws IOException {
        return read(false);
    }

    private Answer read(boolean withBody) throws IOException {
        while (true) {
            String statusLine = line();
            int status = Integer.parseInt(statusLine.split(" ")[1]);
            Map<String, String> headers = new LinkedHashMap<>();
            for (String line = line(); !line.isEmpty(); line = line()) {
                int colon = line.indexOf(':');
                headers.merge(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim(),
                        (a, b) -> a + "," + b);
            }
            if (status >= 100 && status < 200) {
                continue;
            }
            return new Answer(status, headers, withBody ? body(headers) : new byte[0]);
        }
    }

    private byte[] body(Map<String, String> headers) throws IOException {
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (true) {
                String size = line();
                int semicolon = size.indexOf(';');
                int n = Integer.parseInt((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
                if (n == 0) {
                    while (!line().isEmpty()) {
                        // trailers
                    }
                    return body.toByteArray();
                }
                body.writeBytes(in.readNBytes(n));
                line();
            }
        }
        String length = headers.get("content-length");
        if (length != null) {
            int n = Integer.parseInt(length);
            byte[] body = in.readNBytes(n);
            if (body.length < n) {
                throw new EOFException("body cut at " + body.length + " of " + n + " bytes");
            }
            return body;
        }
        return "close".equalsIgnoreCase(headers.get("connection")) ? in.readAllBytes() : new byte[0];
    }

    private String line() throws IOException {
        StringBuilder line = new StringBuilder();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed" + (line.length() > 0 ? " after \"" + line + "\"" : ""));
            }
            if (b == '\n') {
                int end = line.length();
                return end > 0 && line.charAt(end - 1) == '\r' ? line.substring(0, end - 1) : line.toString();
            }
            line.append((char) b);
        }
    }

    /** Reads up to {@code max} bytes as they arrive (for streams), or fewer when the connection ends. */
    public byte[] readSome(int max) throws IOException {
        byte[] buffer = new byte[max];
        int n = in.read(buffer);
        return n < 0 ? new byte[0] : java.util.Arrays.copyOf(buffer, n);
    }

    /** Closes at once with a reset, as a client that vanishes does. */
    public void abort() {
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException e) {
            // already gone
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
