package dev.portico.outofprocess.forward;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import dev.portico.config.Excerpt;
import dev.portico.outofprocess.backend.BackendAddress;
import dev.portico.outofprocess.forward.upgrade.BackendChannel;
import dev.portico.outofprocess.forward.upgrade.UpgradeTunnel;

/**
 * Forwards an HTTP upgrade request — a WebSocket handshake or any other protocol switch — which
 * Jetty's ProxyServlet cannot do (it treats {@code Upgrade} as hop-by-hop and drops it). The
 * handshake is sent to the backend as written by the client plus Portico's forwarding headers;
 * if the backend answers 101 the client connection is upgraded and an {@link UpgradeTunnel}
 * relays bytes both ways; any other answer is passed back to the client as is.
 *
 * <p>The handshake itself waits on the request thread (bounded by requestTimeout):
 * {@code HttpServletRequest.upgrade} has to be called before {@code service()} returns, so
 * there is no way to park the request while the backend answers. Handshakes are short and rare;
 * the tunnel that follows holds no thread.
 */
public final class UpgradeForwarder {

    private static final int MAX_HEAD = 64 * 1024;
    private UpgradeForwarder() {
    }

    /** An upgrade request: {@code Connection} names {@code upgrade} and there is an {@code Upgrade} header. */
    public static boolean isUpgrade(HttpServletRequest request) {
        if (request.getHeader("Upgrade") == null) {
            return false;
        }
        for (Enumeration<String> values = request.getHeaders("Connection"); values.hasMoreElements();) {
            for (String token : values.nextElement().split(",")) {
                if (token.trim().equalsIgnoreCase("upgrade")) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * @param tunnelClosed runs when the tunnel closes, if the backend switched protocols
     * @return true when the connection was upgraded (then {@code tunnelClosed} will run)
     */
    public static boolean forward(HttpServletRequest request, HttpServletResponse response, BackendClient client,
            BackendAddress address, String target, List<String[]> forwardingHeaders, Duration timeout, Runnable tunnelClosed)
            throws IOException, ServletException {
        long millis = timeout.toMillis();
        BackendChannel backend;
        try {
            backend = await(client.openChannel(address), millis);
        } catch (TimeoutException e) {
            throw new BackendTimeoutException(e);
        }
        boolean upgraded = false;
        try {
            ByteBuffer head = ByteBuffer.wrap(requestHead(request, target, forwardingHeaders).getBytes(StandardCharsets.ISO_8859_1));
            while (head.hasRemaining()) {
                await(backend.write(head), millis);
            }
            ByteBuffer received = ByteBuffer.allocate(MAX_HEAD);
            ResponseHead answer = readHead(backend, received, millis);
            ByteBuffer rest = ByteBuffer.allocate(received.remaining()).put(received).flip();
            response.setStatus(answer.status);
            for (String[] header : answer.headers) {
                response.addHeader(header[0], header[1]);
            }
            if (answer.status == HttpServletResponse.SC_SWITCHING_PROTOCOLS) {
                UpgradeTunnel tunnel = request.upgrade(UpgradeTunnel.class);
                tunnel.attach(backend, rest, tunnelClosed);
                upgraded = true;
            } else {
                relayBody(answer, rest, backend, response, millis);
            }
        } catch (TimeoutException e) {
            response.reset();
            throw new BackendTimeoutException(e);
        } finally {
            if (!upgraded) {
                backend.close();
            }
        }
        return upgraded;
    }

    private static String requestHead(HttpServletRequest request, String target, List<String[]> forwardingHeaders) {
        StringBuilder head = new StringBuilder(512).append(request.getMethod()).append(' ').append(target);
        head.append(" HTTP/1.1\r\nConnection: Upgrade\r\n");
        for (Enumeration<String> upgrades = request.getHeaders("Upgrade"); upgrades.hasMoreElements();) {
            head.append("Upgrade: ").append(upgrades.nextElement()).append("\r\n");
        }
        Set<String> named = ForwardedHeaders.connectionTokens(request);
        for (Enumeration<String> names = request.getHeaderNames(); names.hasMoreElements();) {
            String name = names.nextElement();
            String lower = name.toLowerCase(Locale.ROOT);
            // a handshake has no body: the client's Content-Length is no business of the backend's
            if (lower.equals("content-length") || !ForwardedHeaders.copied(lower, named)) {
                continue;
            }
            for (Enumeration<String> values = request.getHeaders(name); values.hasMoreElements();) {
                head.append(name).append(": ").append(values.nextElement()).append("\r\n");
            }
        }
        for (String[] header : forwardingHeaders) {
            head.append(header[0]).append(": ").append(header[1]).append("\r\n");
        }
        return head.append("\r\n").toString();
    }

    /** Reads the backend's answer head into {@code received}, left positioned at what follows the head. */
    private static ResponseHead readHead(BackendChannel backend, ByteBuffer received, long millis)
            throws IOException, TimeoutException {
        int headEnd;
        while ((headEnd = endOfHead(received)) < 0) {
            if (!received.hasRemaining() || await(backend.read(received), millis) < 0) {
                throw new IOException("the backend closed the connection or sent an oversized head");
            }
        }
        ResponseHead answer = ResponseHead.parse(new String(received.array(), 0, headEnd, StandardCharsets.ISO_8859_1));
        received.flip().position(headEnd + 4);
        return answer;
    }

    private static int endOfHead(ByteBuffer received) {
        byte[] bytes = received.array();
        for (int i = 3; i < received.position(); i++) {
            if (bytes[i] == '\n' && bytes[i - 1] == '\r' && bytes[i - 2] == '\n' && bytes[i - 3] == '\r') {
                return i - 3;
            }
        }
        return -1;
    }

    /** A refused upgrade: pass the backend's answer on (Content-Length, chunked, or until close). */
    private static void relayBody(ResponseHead answer, ByteBuffer rest, BackendChannel backend,
            HttpServletResponse response, long millis) throws IOException, TimeoutException {
        OutputStream out = response.getOutputStream();
        BackendBytes in = new BackendBytes(rest, backend, millis);
        if (!answer.chunked) {
            in.copy(out, answer.contentLength);
            return;
        }
        while (true) {
            String sizeLine = in.line();
            int extension = sizeLine.indexOf(';');
            long size = length((extension < 0 ? sizeLine : sizeLine.substring(0, extension)).trim(), 16, "chunk size");
            if (size == 0) {
                return;
            }
            in.copy(out, size);
            in.line();
        }
    }

    /** A length the backend sent; a malformed one fails the exchange as any bad answer does (502), not as a bug (500). */
    private static long length(String text, int radix, String what) throws IOException {
        try {
            long length = Long.parseLong(text, radix);
            if (length >= 0 && !text.startsWith("+")) {
                return length;
            }
        } catch (NumberFormatException e) {
            // answered below, with the value
        }
        throw new IOException("the backend sent a malformed " + what + " [" + Excerpt.of(text) + "]");
    }

    /** Reads the bytes after the response head, then from the backend channel. */
    private static final class BackendBytes {
        private ByteBuffer buffer;
        private final BackendChannel channel;
        private final long millis;

        BackendBytes(ByteBuffer first, BackendChannel channel, long millis) {
            this.buffer = first;
            this.channel = channel;
            this.millis = millis;
        }

        private boolean fill() throws IOException, TimeoutException {
            if (buffer.hasRemaining()) {
                return true;
            }
            buffer = ByteBuffer.allocate(16 * 1024);
            if (await(channel.read(buffer), millis) < 0) {
                return false;
            }
            buffer.flip();
            return true;
        }

        /** Copies {@code count} bytes, or everything until the backend closes when count is negative. */
        void copy(OutputStream out, long count) throws IOException, TimeoutException {
            long remaining = count;
            while (remaining != 0 && fill()) {
                int n = (int) Math.min(buffer.remaining(), remaining < 0 ? Integer.MAX_VALUE : remaining);
                out.write(buffer.array(), buffer.arrayOffset() + buffer.position(), n);
                buffer.position(buffer.position() + n);
                remaining = remaining < 0 ? remaining : remaining - n;
            }
        }

        String line() throws IOException, TimeoutException {
            StringBuilder line = new StringBuilder();
            while (fill()) {
                char c = (char) (buffer.get() & 0xff);
                if (c == '\n') {
                    return line.toString().strip();
                }
                line.append(c);
            }
            throw new IOException("the backend closed the connection inside a chunked body");
        }
    }

    private static <T> T await(java.util.concurrent.Future<T> future, long millis) throws IOException, TimeoutException {
        try {
            return future.get(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    /** The backend did not answer the handshake within requestTimeout. */
    public static final class BackendTimeoutException extends IOException {
        private static final long serialVersionUID = 1L;

        BackendTimeoutException(Throwable cause) {
            super(cause);
        }
    }

    /** Status line and headers of the backend's answer to the handshake. */
    private record ResponseHead(int status, List<String[]> headers, long contentLength, boolean chunked) {

        static ResponseHead parse(String head) throws IOException {
            String[] lines = head.split("\r\n");
            String[] statusLine = lines[0].split(" ", 3);
            if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
                throw new IOException("not an HTTP response: " + lines[0]);
            }
            int status;
            try {
                status = Integer.parseInt(statusLine[1]);
            } catch (NumberFormatException e) {
                throw new IOException("bad status line: " + lines[0], e);
            }
            List<String[]> headers = new ArrayList<>();
            long contentLength = status == 101 || status == 204 || status == 304 ? 0 : -1;
            boolean chunked = false;
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String name = lines[i].substring(0, colon).trim();
                String value = lines[i].substring(colon + 1).trim();
                String lower = name.toLowerCase(Locale.ROOT);
                if (lower.equals("content-length")) {
                    contentLength = length(value, 10, "Content-Length");
                } else if (lower.equals("transfer-encoding")) {
                    chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                    continue; // Tomcat frames the relayed body itself
                } else if (status != 101 && ForwardedHeaders.NOT_COPIED.contains(lower)) {
                    continue; // hop-by-hop: Tomcat writes its own connection management
                }
                headers.add(new String[] {name, value});
            }
            return new ResponseHead(status, headers, contentLength, chunked);
        }
    }
}
