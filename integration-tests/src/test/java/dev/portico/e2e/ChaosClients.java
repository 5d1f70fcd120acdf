package dev.portico.e2e;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import dev.portico.testsupport.Concurrently;
import dev.portico.testsupport.RawConnection;
import dev.portico.testsupport.RawHttp;
import dev.portico.testsupport.RawKeepAlive;
import dev.portico.testsupport.RawRequestBody;
import dev.portico.testsupport.RawResponse;
import dev.portico.testsupport.RawResponseHead;
import dev.portico.testsupport.TestBodies;
import dev.portico.testsupport.TextWebSocket;

/**
 * The clients of {@link ForwardingChaosIT}: keep-alive raw-socket clients that POST bodies and check
 * the echo byte for byte, server-sent-event readers that may give up at any point, WebSocket
 * sessions that may be dropped without a close frame, and a bounded way to run many of them at
 * once. Every loop is bounded by a count and a {@link Deadline}; every read by a socket timeout; and
 * {@link #runConcurrently} closes every socket still open when its hard limit passes.
 */
final class ChaosClients {

    /** How the request body is framed. */
    enum Framing { CONTENT_LENGTH, CHUNKED }

    /** For {@link #stream}: close the connection right after sending the request. */
    static final int ABORT_BEFORE_RESPONSE = Integer.MIN_VALUE;

    private final int port;
    private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();
    private final HttpClient webSocketClient;

    ChaosClients(int port) {
        this.port = port;
        this.webSocketClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** A point in time by which a loop stops starting new work. */
    record Deadline(long nanos) {
        static Deadline in(Duration duration) {
            return new Deadline(System.nanoTime() + duration.toNanos());
        }

        boolean passed() {
            return System.nanoTime() - nanos > 0;
        }
    }

    /** What one of several clients does: {@code id} tells it apart, {@code random} is seeded from it. */
    interface Client {
        void run(int id, SplittableRandom random) throws Exception;
    }

    /** A {@link Client} with a keep-alive connection of its own for its whole run. */
    interface KeepAliveClient {
        void run(int id, KeepAlive keepAlive, SplittableRandom random) throws Exception;
    }

    /** {@code count} tasks for {@link #runConcurrently}: client {@code id}'s random source is seeded {@code seed + id}. */
    static List<Callable<Void>> tasks(int count, long seed, Client client) {
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int c = 0; c < count; c++) {
            int id = c;
            tasks.add(() -> {
                client.run(id, new SplittableRandom(seed + id));
                return null;
            });
        }
        return tasks;
    }

    /** {@link #tasks}, each client with its own keep-alive connection, closed when it is done. */
    List<Callable<Void>> keepAliveTasks(int count, long seed, KeepAliveClient client) {
        return tasks(count, seed, (id, random) -> {
            try (KeepAlive keepAlive = keepAlive()) {
                client.run(id, keepAlive, random);
            }
        });
    }

    /**
     * Runs the tasks in parallel and waits for all of them, at most {@code hardLimit}; then closes every
     * connection still open (which ends any blocked read or write) and fails naming the tasks that hung.
     */
    void runConcurrently(Duration hardLimit, List<Callable<Void>> tasks) {
        try {
            Concurrently.run(hardLimit, tasks);
        } finally {
            closeAll();
        }
    }

    /** For an {@code @AfterAll}: closes what the clients left open; nothing if there were none. */
    static void closeAll(ChaosClients clients) {
        if (clients != null) {
            clients.closeAll();
        }
    }

    void closeAll() {
        for (AutoCloseable closeable : open) {
            try {
                closeable.close();
            } catch (Exception e) {
                // closing anyway
            }
        }
        open.clear();
    }

    // ---------------------------------------------------------------------------------------------
    // Keep-alive POSTs and GETs

    /** One client that keeps its connection open across requests while the server allows it. */
    final class KeepAlive implements AutoCloseable {
        private final RawKeepAlive connection = new RawKeepAlive(port, RawHttp.READ_TIMEOUT);
        private boolean last502WithoutClose;

        KeepAlive() {
            open.add(connection);
        }

        /** Whether the previous response was a 502 that did not say {@code Connection: close}. */
        boolean after502WithoutClose() {
            return last502WithoutClose;
        }

        /** True if the next request goes over a connection that already served a response. */
        boolean reusing() {
            return connection.reusing();
        }

        /**
         * Sends one request with {@code body} (none if null) and reads the final response. The
         * connection is closed when the response says so or when the body was not sent (a final
         * answer to {@code Expect: 100-continue}); any IOException closes it too and is rethrown.
         */
        RawResponse exchange(String method, String target, byte[] body, Framing framing, boolean expectContinue,
                String... extraHeaders) throws IOException {
            List<String> headers = new ArrayList<>(Arrays.asList(extraHeaders));
            RawRequestBody framed = null;
            if (body != null) {
                headers.add("Content-Type: application/octet-stream");
                framed = framing == Framing.CHUNKED ? RawRequestBody.chunked(body, 1 + (body.length * 7 + 13) % 16_384)
                        : RawRequestBody.sized(body);
                if (expectContinue && body.length > 0) {
                    framed = framed.expectingContinue();
                }
            }
            last502WithoutClose = false;
            RawResponse response = connection.exchange(method, target, framed, headers.toArray(String[]::new));
            last502WithoutClose = response.status() == 502 && connection.connected();
            return response;
        }

        @Override
        public void close() {
            open.remove(connection);
            connection.close();
        }
    }

    KeepAlive keepAlive() {
        return new KeepAlive();
    }

    /**
     * POSTs {@code body} to {@code /<app>/mirror} and records the outcome: ok (200, the same bytes,
     * its own tag), corrupted (200 with other bytes or another request's tag), lost (anything else),
     * or — if {@code allow502} — a clean 502 page counted as "502".
     */
    void mirror(KeepAlive client, LossTally tally, String app, String tag, byte[] body, Framing framing,
            boolean expect, boolean allow502) {
        String what = "POST " + (body == null ? "(no body)" : body.length + " B " + framing) + (expect ? " +expect" : "")
                + " tag " + tag;
        boolean reusing = client.reusing();
        boolean after502 = client.after502WithoutClose();
        tally.sent();
        RawResponse response;
        try {
            response = client.exchange(body == null ? "GET" : "POST", "/" + app + "/mirror?tag=" + tag, body,
                    framing, expect);
        } catch (IOException e) {
            tally.lost(what + ": " + e + (reusing ? " (on a reused keep-alive connection"
                    + (after502 ? " after a 502 without Connection: close)" : ")") : ""));
            if (after502) {
                tally.count("keepAliveBrokenAfter502");
            }
            return;
        }
        checkMirror(response, tally, what, tag, body == null ? new byte[0] : body, allow502);
    }

    static void checkMirror(RawResponse response, LossTally tally, String what, String tag, byte[] body,
            boolean allow502) {
        if (response.status() == 200) {
            String echoedTag = response.header("X-Request-Tag").orElse("(none)");
            if (!echoedTag.equals(tag)) {
                tally.corrupted(what + ": answered with the data of request " + echoedTag);
            } else if (!Arrays.equals(body, response.body())) {
                tally.corrupted(what + ": echoed " + response.body().length + " bytes that differ from the "
                        + body.length + " sent");
            } else {
                tally.ok();
            }
        } else if (response.status() == 502 && allow502 && response.text().contains("502")) {
            tally.count("502");
            tally.ok();
        } else {
            tally.count("status" + response.status());
            tally.lost(what + ": " + response + " " + abbreviate(response.text()));
        }
    }

    /** GET {@code /<app>/download?bytes=n} over a keep-alive client: ok only with the exact n bytes. */
    void download(KeepAlive client, LossTally tally, String app, int bytes) {
        String what = "GET download " + bytes + " B";
        boolean reusing = client.reusing();
        tally.sent();
        try {
            RawResponse response = client.exchange("GET", "/" + app + "/download?bytes=" + bytes, null,
                    Framing.CONTENT_LENGTH, false);
            if (response.status() != 200) {
                tally.count("status" + response.status());
                tally.lost(what + ": " + response + " " + abbreviate(response.text()));
            } else if (!TestBodies.isModulo251(response.body(), bytes)) {
                tally.corrupted(what + ": " + response.body().length + " bytes, not the pattern");
            } else {
                tally.ok();
            }
        } catch (IOException e) {
            tally.lost(what + ": " + e + (reusing ? " (on a reused keep-alive connection)" : ""));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Server-sent events

    /**
     * Reads one tagged event stream {@code /<app>/sse?count=N&intervalMs=M&tag=T} on a fresh
     * connection. With {@code abortAfter} &lt; 0 it is read whole: ok only with all N events, each
     * {@code data: T i}, in order, and a proper end (else lost; another tag is corrupted). With
     * {@code abortAfter} = k &ge; 0 the client closes the socket after event k (a reset or a FIN,
     * alternately); with {@link #ABORT_BEFORE_RESPONSE} right after sending the request: counted "aborted".
     */
    void stream(LossTally tally, String app, String tag, int count, int intervalMs, int abortAfter) {
        String target = "/" + app + "/sse?count=" + count + "&intervalMs=" + intervalMs + "&tag=" + tag;
        String what = "stream " + tag + (abortAfter >= 0 ? " (abort after event " + abortAfter + ")" : "");
        tally.sent();
        RawConnection connection;
        try {
            connection = RawHttp.connect(port);
        } catch (RuntimeException e) {
            tally.lost(what + ": " + e);
            return;
        }
        open.add(connection);
        int received = 0;
        try {
            connection.send(RawHttp.head("GET", target, "Accept: text/event-stream"));
            if (abortAfter == ABORT_BEFORE_RESPONSE) {
                connection.abort();
                tally.count("abortedBeforeResponse");
                tally.ok();
                return;
            }
            RawResponseHead head = connection.readHead();
            if (head.status() != 200) {
                tally.count("status" + head.status());
                tally.lost(what + ": " + head.statusLine());
                return;
            }
            String echoedTag = head.header("X-Request-Tag").orElse("(none)");
            if (!echoedTag.equals(tag)) {
                tally.corrupted(what + ": response headers of request " + echoedTag);
                return;
            }
            InputStream body = connection.bodyStream(head, "GET");
            for (String line; (line = readLine(body)) != null; ) {
                if (line.isEmpty()) {
                    continue;
                }
                String expected = "data: " + tag + " " + received;
                if (!line.equals(expected)) {
                    tally.corrupted(what + ": event " + received + " was \"" + abbreviate(line) + "\"");
                    return;
                }
                if (abortAfter >= 0 && received == abortAfter) {
                    if (received % 2 == 0) {
                        connection.abort();
                    } else {
                        connection.close();
                    }
                    tally.count("aborted");
                    tally.ok();
                    return;
                }
                received++;
            }
            if (received == count) {
                tally.count("streamsComplete");
                tally.ok();
            } else {
                tally.count("streamsCut");
                tally.lost(what + ": cut after " + received + " of " + count + " events");
            }
        } catch (IOException e) {
            tally.count("streamsCut");
            tally.lost(what + ": " + e + " after " + received + " of " + count + " events");
        } finally {
            open.remove(connection);
            connection.close();
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(64);
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                if (line.size() == 0) {
                    return null;
                }
                throw new EOFException("stream ended inside an event line");
            }
            line.write(b);
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------------------------------------
    // WebSocket

    /**
     * One WebSocket session to {@code /<app>/ws-echo}: {@code messages} text messages, each echo
     * checked; then a close handshake, or (with {@code drop}) the socket closed abruptly — after
     * the last echo or (with {@code dropMidMessage}) right after sending a message.
     */
    void webSocket(LossTally tally, String app, String tag, int messages, boolean drop, boolean dropMidMessage) {
        String what = "websocket " + tag + (drop ? " (dropped)" : "");
        tally.sent();
        TextWebSocket session;
        try {
            session = TextWebSocket.open(webSocketClient, URI.create("ws://127.0.0.1:" + port + "/" + app + "/ws-echo"),
                    Duration.ofSeconds(10), Duration.ofSeconds(5));
        } catch (Exception e) {
            tally.lost(what + ": handshake failed: " + e);
            return;
        }
        AutoCloseable closer = session::abort;
        open.add(closer);
        try {
            for (int i = 0; i < messages; i++) {
                String message = tag + " message " + i + " " + "x".repeat(i * 37 % 500);
                session.send(message);
                if (drop && dropMidMessage && i == messages - 1) {
                    session.abort();
                    tally.count("wsDropped");
                    tally.ok();
                    return;
                }
                String echo = session.poll();
                if (echo == null) {
                    tally.lost(what + ": no echo of message " + i + (session.ended().isDone()
                            ? " (closed: " + session.ended().getNow(null) + ")" : ""));
                    return;
                }
                if (!echo.equals(message)) {
                    tally.corrupted(what + ": message " + i + " echoed as \"" + abbreviate(echo) + "\"");
                    return;
                }
            }
            if (drop) {
                session.abort();
                tally.count("wsDropped");
                tally.ok();
                return;
            }
            session.close();
            String closed = session.ended().get(5, TimeUnit.SECONDS);
            tally.count("wsClosedCleanly");
            tally.ok();
            if (!closed.startsWith("1000")) {
                tally.count("wsCloseCode" + closed);
            }
        } catch (Exception e) {
            tally.lost(what + ": " + e);
        } finally {
            open.remove(closer);
            session.abort();
        }
    }

    static String abbreviate(String text) {
        String oneLine = text.replace("\r", "\\r").replace("\n", "\\n");
        return oneLine.length() <= 200 ? oneLine : oneLine.substring(0, 200) + "…";
    }
}
