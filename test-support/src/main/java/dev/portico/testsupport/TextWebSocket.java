package dev.portico.testsupport;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket client session ({@code java.net.http}) that speaks text: every whole message the
 * server sends is queued, and how the session ended is kept. Every wait is bounded by the
 * {@code timeout} the session was opened with.
 */
public final class TextWebSocket implements AutoCloseable {

    private final WebSocket socket;
    private final Listener listener;
    private final Duration timeout;

    private TextWebSocket(WebSocket socket, Listener listener, Duration timeout) {
        this.socket = socket;
        this.listener = listener;
        this.timeout = timeout;
    }

    /** A loopback connection is made at once or never: no handshake waits longer for it than this. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    /**
     * Opens a session, the handshake bounded by {@code handshake}.
     *
     * @param timeout what each later send, receive or close may wait
     */
    public static TextWebSocket open(HttpClient client, URI uri, Duration handshake, Duration timeout)
            throws Exception {
        Listener listener = new Listener();
        WebSocket socket = client.newWebSocketBuilder().connectTimeout(CONNECT_TIMEOUT).buildAsync(uri, listener)
                .get(handshake.toMillis(), TimeUnit.MILLISECONDS);
        return new TextWebSocket(socket, listener, timeout);
    }

    /** Opens a session, sends {@code text}, and returns the first message back; then closes the session. */
    public static String roundTrip(HttpClient client, URI uri, String text, Duration handshake, Duration timeout)
            throws Exception {
        try (TextWebSocket session = open(client, uri, handshake, timeout)) {
            session.send(text);
            return session.next();
        }
    }

    public void send(String text) throws Exception {
        socket.sendText(text, true).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The next whole text message, or null when none came within the timeout. */
    public String poll() throws InterruptedException {
        return listener.messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The next whole text message; fails when none comes within the timeout. */
    public String next() throws InterruptedException {
        String message = poll();
        if (message == null) {
            throw new AssertionError("no message within " + timeout + ending());
        }
        return message;
    }

    /** {@code "<status> <reason>"} of the server's close, or {@code "error <exception>"}; done when the session ended. */
    public CompletableFuture<String> ended() {
        return listener.ended;
    }

    /** Drops the connection without a close frame (a client that vanishes). */
    public void abort() {
        socket.abort();
    }

    /** The close handshake, started by this side. */
    @Override
    public void close() throws Exception {
        if (!socket.isOutputClosed()) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private String ending() {
        return listener.ended.isDone() ? " (ended: " + listener.ended.getNow(null) + ")" : "";
    }

    private static final class Listener implements WebSocket.Listener {
        final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
        final CompletableFuture<String> ended = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                messages.add(partial.toString());
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            ended.complete(statusCode + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            ended.complete("error " + error);
        }
    }
}
