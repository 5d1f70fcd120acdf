package dev.portico.outofprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.RawConnection;
import dev.portico.testsupport.RawResponse;

/**
 * What a hostile client sends, over a raw socket, to two out-of-process apps {@code /a} and
 * {@code /b}: requests Tomcat refuses, malformed bodies, paths that try to leave an app, forged
 * forwarding headers, Portico's reserved path. Nothing may answer 500, log SEVERE, reach the
 * wrong backend or reach a backend in a spelling the front did not route.
 */
class HostileRequestsTest {

    private static final List<LogRecord> severe = new ArrayList<>();
    private static final Handler severeHandler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.SEVERE.intValue()) {
                synchronized (severe) {
                    severe.add(record);
                }
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> valve.setStartupTimeLimit(20));

    @BeforeAll
    static void start() throws Exception {
        Logger.getLogger("").addHandler(severeHandler);
        tomcat.nodeApp("a", "", Map.of());
        tomcat.nodeApp("b", "", Map.of());
        assertEquals(200, tomcat.get("/a/").statusCode());
        assertEquals(200, tomcat.get("/b/").statusCode());
    }

    @AfterAll
    static void stop() throws Exception {
        Logger.getLogger("").removeHandler(severeHandler);
    }

    private static RawResponse raw(String request) throws IOException {
        try (RawConnection connection = tomcat.connect(Duration.ofSeconds(10))) {
            connection.send(request);
            return connection.readResponse(request.substring(0, request.indexOf(' ')));
        }
    }

    private static void assertNoSevere() {
        synchronized (severe) {
            assertTrue(severe.isEmpty(), "SEVERE logged: " + severe.stream().map(r -> r.getMessage()
                    + (r.getThrown() == null ? "" : " " + r.getThrown())).toList());
        }
    }

    /**
     * Each used to be a 500 with a SEVERE NullPointerException ("uri" is null) from the valve.
     * Tomcat's own answer is a 400, or 501 for a transfer coding it does not implement (RFC 9112, 6.1).
     */
    @Test
    void requestsTomcatRefusesAreItsOwn400() throws IOException {
        String[] refused = {
            "GET /a/x%2fy HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /a/x%00y HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /a/echo HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
            "POST /a/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            "POST /a/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
            "POST /a/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: identity\r\n\r\nabcd",
            "GET /a/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
        };
        for (String request : refused) {
            RawResponse answer = raw(request);
            assertTrue(answer.status() >= 400 && answer.status() < 500 || answer.status() == 501,
                    answer.status() + " for " + request.replace("\r\n", "\\r\\n"));
        }
        assertNoSevere();
    }

    /** A malformed chunked body used to be a bare close: it gets an answer, and the backend sees no request of its own making. */
    @Test
    void malformedChunkedBodyIsAnswered400() throws IOException {
        RawResponse answer = raw("POST /a/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\nzz-not-hex\r\n\r\n");
        assertEquals(400, answer.status());
        assertTrue(answer.closesConnection(), "a 400 after a broken body must close: " + answer.head());
        assertNoSevere();
    }

    /** Routing follows Tomcat's normalised path; the backend must receive that path, inside its own base, not the raw spelling. */
    @Test
    void backendsOnlyReceiveThePathTheFrontRouted() throws IOException {
        String[] probes = {
            "/a/..;/b/echo", "/a/.;/../b/echo", "/a/%2e%2e;/b/echo", "//a/../b/echo", "/a//../b/echo",
            "/a/%2e%2e/b/echo", "/a/./echo", "/a/x/../echo", "/a;p=1/echo",
            "/a/%2E%2E/a/echo", "/b/%2e/echo",
        };
        int answered = 0;
        for (String probe : probes) {
            RawResponse answer = raw("GET " + probe + " HTTP/1.1\r\nHost: x\r\n\r\n");
            if (answer.status() >= 400 && answer.status() < 500) {
                continue; // refused by the front: nothing reached a backend
            }
            assertEquals(200, answer.status(), probe + ": " + answer.text());
            String prefix = Json.field(answer.text(), "x-forwarded-prefix");
            String path = Json.field(answer.text(), "path");
            // every probe means some app's /echo once normalised: a backend that did not see /echo got another spelling
            assertTrue(path != null, probe + " reached " + prefix + "'s backend in a spelling it did not resolve: " + answer.text());
            answered++;
            String lower = path.toLowerCase(Locale.ROOT);
            assertTrue(path.startsWith(prefix + "/"), probe + " reached " + prefix + "'s backend as " + path);
            assertFalse(lower.contains("/../") || lower.contains("/./") || lower.contains("//") || lower.contains("%2e")
                    || lower.contains("%2f") || (lower.contains(";") && !lower.contains(";jsessionid=")),
                    probe + " reached the backend as " + path);
        }
        assertTrue(answered >= 5, "too few probes reached a backend to judge: " + answered);
        // the one path parameter forwarded: a URL-rewritten session id, which Java backends need
        assertEquals("hello from node /a/x;jsessionid=ABC",
                raw("GET /a/./x;jsessionid=ABC HTTP/1.1\r\nHost: x\r\n\r\n").text());
    }

    /** Tomcat unfolds an obs-fold line into one value (RFC 9112, 5.2): the backend sees no line break of the client's. */
    @Test
    void foldedHeaderReachesTheBackendAsOneLine() throws IOException {
        RawResponse answer = raw("GET /a/echo HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n");
        assertEquals(200, answer.status());
        String folded = Json.field(answer.text(), "x-folded");
        assertTrue(folded != null && !folded.contains("\n") && !folded.contains("\r"), "x-folded: " + folded);
    }

    @Test
    void forgedForwardingHeadersNeverReachTheBackend() throws IOException {
        RawResponse answer = raw("GET /a/echo HTTP/1.1\r\nHost: x\r\n"
                + "X_Forwarded_For: 6.6.6.6\r\nX_Portico_Token: forged\r\nX-Real-IP: 6.6.6.6\r\nx-forwarded-for: 7.7.7.7\r\n"
                + "X-Forwarded_Proto: https\r\nx_real_ip: 6.6.6.6\r\nX-Original-URL: /b/\r\nForwarded: for=6.6.6.6\r\n\r\n");
        assertEquals(200, answer.status());
        String json = answer.text();
        assertEquals(List.of("127.0.0.1"), Json.fields(json, "x-forwarded-for"));
        assertEquals("http", Json.field(json, "x-forwarded-proto"));
        for (String forged : new String[] {"x_forwarded_for", "x_portico_token", "x-real-ip", "x-forwarded_proto",
                "x_real_ip", "x-original-url", "forwarded"}) {
            assertNull(Json.field(json, forged), forged + " reached the backend: " + json);
        }
    }

    /** Portico's shutdown message goes to {@code /.portico/shutdown} with the real token: a client's request there must never be forwarded. */
    @Test
    void clientsCannotReachThePorticoReservedPath() throws IOException {
        String pid = Json.field(tomcat.get("/a/env").body(), "pid");
        for (String path : new String[] {"/a/.portico/shutdown", "/a/%2eportico/shutdown", "/a/.portico;x/shutdown",
                "/a//.portico/shutdown", "/a/.PORTICO/shutdown", "/a/x/../.portico/shutdown", "/a/.portico"}) {
            RawResponse answer = raw("POST " + path + " HTTP/1.1\r\nHost: x\r\nX-Portico-Event: shutdown\r\n"
                    + "Content-Length: 0\r\n\r\n");
            assertTrue(answer.status() == 404 || answer.status() == 400, path + " answered " + answer.status());
        }
        assertEquals(pid, Json.field(tomcat.get("/a/env").body(), "pid"), "the backend was shut down by a client");
        assertNoSevere();
    }
}
