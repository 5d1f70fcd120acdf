package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.portico.testsupport.Poll;
import dev.portico.testsupport.RawConnection;
import dev.portico.testsupport.RawHttp;
import dev.portico.testsupport.RawResponse;

/**
 * Hostile input over a raw socket to the front (issue 8): request smuggling and malformed framing,
 * forwarded-header spoofing in every spelling, the reserved {@code /.portico/} path and path-escape
 * probes between two apps. The Node backends record every request they receive
 * ({@link BackendRecord}), so the test sees exactly what crossed the front: 0 desyncs (no request
 * the front did not mean, no request the backend could not parse), every refused request answered
 * with a 4xx status line by Tomcat (never a 500, never a bare close), headers and paths that reach
 * a backend only as Portico means them. Prints {@code [hostile] … variants tried} per test.
 */
class HostileInputIT {

    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(5);
    private static final String SMUGGLED = "SMUGGLED";
    /** Header names a client must not be able to set for the backend, in their dash spelling. */
    private static final Set<String> PROTECTED = Set.of("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
            "x-forwarded-prefix", "x-forwarded-port", "x-portico-token", "x-portico-principal", "x-portico-event",
            "forwarded", "x-real-ip");
    private static final Pattern UNCLEAN_PATH = Pattern.compile(
            "(^|/)\\.{1,2}(/|;|$)|/;|//|%2[eEfF]|%5[cC]|\\\\|%00");

    private static TomcatDistribution tomcat;
    private static final AtomicInteger VARIANTS = new AtomicInteger();

    @BeforeAll
    static void startTomcatWithRecordingBackends() {
        tomcat = TomcatDistribution.named("hostile").create();
        for (String app : List.of("rec", "a", "b")) {
            tomcat.writeApp(app, BackendRecord.recordingBackend(tomcat, app).asFile());
        }
        tomcat.start();
        for (String app : List.of("rec", "a", "b")) {
            tomcat.http().getJson("/" + app + "/env");
        }
    }

    @AfterAll
    static void stopTomcatAndCheckItsLog() {
        System.out.println("[hostile] attack variants tried in all: " + VARIANTS.get());
        // Tomcat's own note on the first malformed request head and the first invalid Host a
        // processor meets (INFO with the parser's exception; each processor notes its first one, so
        // which of the two appear depends on which pooled processor got the attack)
        TomcatDistribution.closeAndAssertCleanLog(tomcat, "Http11Processor.service Error parsing HTTP request header",
                "AbstractProcessor.parseHost The host \\[.*\\] is not valid");
    }

    // ---------------------------------------------------------------------------------------------
    // Smuggling and malformed framing

    /** What the front may do with an attack. */
    enum Expect {
        /** a 4xx status line, nothing reaches the backend */
        REFUSE,
        /** as REFUSE, or 501 (a transfer coding Tomcat does not implement, RFC 9112 6.1) */
        REFUSE_OR_501,
        /** REFUSE, or forwarded once, whole, with the body length given, framed cleanly */
        REFUSE_OR_FORWARD,
        /** REFUSE_OR_FORWARD, or 501/505 */
        REFUSE_501_505_OR_FORWARD
    }

    private record Attack(String id, String name, byte[] bytes, Expect expect, int bodyLength, boolean halfClose) {
    }

    @Test
    void smugglingAndMalformedFramingNeverDesyncAndAreRefusedWith4xx() throws Exception {
        List<Attack> attacks = smugglingAttacks();
        List<String> failures = new ArrayList<>();
        Map<String, String> answers = new java.util.LinkedHashMap<>();
        for (Attack attack : attacks) {
            VARIANTS.incrementAndGet();
            answers.put(attack.id(), send(attack, failures));
        }
        // what the backend saw, once it has written it
        Poll.sleep(Duration.ofMillis(500));
        List<JsonNode> seen = BackendRecord.entries(tomcat, "rec");
        int desyncs = 0;
        int abortedUpstream = 0;
        for (JsonNode entry : seen) {
            String url = entry.path("url").asText();
            if (entry.path("kind").asText().equals("clientError")
                    && entry.path("error").asText().contains("INVALID_EOF_STATE")) {
                abortedUpstream++; // a request the front began to forward, then gave up (a bad body)
            } else if (entry.path("kind").asText().equals("clientError")) {
                desyncs++;
                failures.add("DESYNC: the backend received bytes it could not parse as HTTP: " + entry);
            } else if (url.contains(SMUGGLED)) {
                desyncs++;
                failures.add("DESYNC: the backend received a smuggled request " + entry.path("method").asText() + " " + url);
            } else if (Stream.of("/rec/echo?attack=", "/rec/echo?spoof=", "/rec/env").noneMatch(url::startsWith)) {
                desyncs++;
                failures.add("DESYNC: the backend received a request no attack meant: " + entry);
            }
        }
        for (Attack attack : attacks) {
            checkForwarding(attack, answers.get(attack.id()), seen, failures);
        }
        System.out.printf("[hostile] smuggling/framing: %d variants, %d desyncs, %d failures, %d forwarded requests"
                + " aborted at the backend (a bad body found while streaming it; allowed)%n",
                attacks.size(), desyncs, failures.size(), abortedUpstream);
        answers.forEach((id, answer) -> System.out.println("[hostile]   " + id + " " + nameOf(attacks, id) + " -> " + answer));
        failures.forEach(failure -> System.out.println("[hostile]   FAIL " + failure));
        assertTrue(failures.isEmpty(), failures.size() + " of " + attacks.size() + " attacks went wrong:\n  "
                + String.join("\n  ", failures));
    }

    /** Sends one attack on a fresh connection; returns the first status line (or what happened instead). */
    private static String send(Attack attack, List<String> failures) throws IOException {
        try (RawConnection connection = RawHttp.connect(tomcat.httpPort(), ANSWER_TIMEOUT)) {
            try {
                connection.send(attack.bytes());
                if (attack.halfClose()) {
                    connection.shutdownOutput();
                }
            } catch (IOException e) {
                // the front may close before reading it all: what it answered is read below
            }
            RawResponse response;
            try {
                response = connection.readResponse("POST");
            } catch (EOFException e) {
                failures.add(attack.id() + " " + attack.name() + ": closed without a response (" + e.getMessage() + ")");
                return "(closed without a response)";
            } catch (SocketTimeoutException e) {
                failures.add(attack.id() + " " + attack.name() + ": no response within " + ANSWER_TIMEOUT.toSeconds() + " s");
                return "(no response)";
            } catch (IOException e) {
                failures.add(attack.id() + " " + attack.name() + ": " + e);
                return "(" + e + ")";
            }
            int status = response.status();
            boolean allowed = switch (attack.expect()) {
                case REFUSE, REFUSE_OR_FORWARD -> status >= 400 && status < 500;
                case REFUSE_OR_501 -> status >= 400 && status < 500 || status == 501;
                case REFUSE_501_505_OR_FORWARD -> status >= 400 && status < 500 || status == 501 || status == 505;
            };
            boolean forwardAllowed = attack.expect() == Expect.REFUSE_OR_FORWARD
                    || attack.expect() == Expect.REFUSE_501_505_OR_FORWARD;
            if (!allowed && !(forwardAllowed && status == 200)) {
                failures.add(attack.id() + " " + attack.name() + ": answered " + response.head().statusLine()
                        + (status == 500 ? " (a refused request must be Tomcat's 4xx, not 500)" : "")
                        + " " + ChaosClients.abbreviate(response.text()));
            }
            // a second answer on the connection means the front saw a second request in the bytes
            try {
                if (!response.closesConnection()) {
                    connection.closedByServerWithin(Duration.ofMillis(500));
                }
            } catch (IOException e) {
                failures.add("DESYNC " + attack.id() + " " + attack.name()
                        + ": more bytes followed the first response: the front parsed a second request (" + e.getMessage() + ")");
            }
            return response.head().statusLine();
        }
    }

    private static void checkForwarding(Attack attack, String answer, List<JsonNode> seen, List<String> failures) {
        String marker = "attack=" + attack.id();
        List<JsonNode> requests = seen.stream().filter(e -> e.path("kind").asText().equals("request"))
                .filter(e -> e.path("url").asText().endsWith(marker)).toList();
        List<JsonNode> bodies = seen.stream().filter(e -> e.path("kind").asText().equals("body"))
                .filter(e -> e.path("url").asText().endsWith(marker)).toList();
        boolean refused = statusOf(answer) != 200;
        String what = attack.id() + " " + attack.name();
        if (refused && !bodies.isEmpty()) {
            failures.add(what + ": answered " + answer + " but the backend received it whole: " + requests.get(0));
            return;
        }
        if (refused) {
            return;
        }
        if (requests.size() != 1) {
            failures.add(what + ": answered " + answer + " and the backend received it " + requests.size() + " times");
            return;
        }
        JsonNode request = requests.get(0);
        long length = bodies.isEmpty() ? -1 : bodies.get(0).path("bodyLength").asLong();
        if (length != attack.bodyLength()) {
            failures.add(what + ": the backend received a body of " + length + " bytes, not " + attack.bodyLength());
        }
        boolean contentLength = false;
        boolean transferEncoding = false;
        for (JsonNode pair : request.path("rawHeaders")) {
            String name = pair.get(0).asText();
            String value = pair.get(1).asText();
            contentLength |= name.equals("content-length");
            transferEncoding |= name.equals("transfer-encoding");
            if (name.equals("transfer-encoding") && !value.equals("chunked")) {
                failures.add(what + ": forwarded with Transfer-Encoding: " + value);
            }
            if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) {
                failures.add(what + ": forwarded a header with a control character: " + name);
            }
        }
        if (contentLength && transferEncoding) {
            failures.add(what + ": forwarded with both Content-Length and Transfer-Encoding");
        }
    }

    private static List<Attack> smugglingAttacks() {
        List<Attack> attacks = new ArrayList<>();
        AttackList list = new AttackList(attacks);
        String body5 = "5\r\nhello\r\n0\r\n\r\n";
        // CL + TE, both ways round, a smuggled request after the first body under either reading
        list.add("CL+TE (CL shorter)", Expect.REFUSE_OR_FORWARD, 5, false, id -> post(id,
                "Content-Length: 4", "Transfer-Encoding: chunked") + body5 + smuggled(id));
        list.add("TE+CL (CL covers a smuggled request)", Expect.REFUSE_OR_FORWARD, 0, false, id -> {
            String rest = "0\r\n\r\n" + smuggled(id);
            return post(id, "Transfer-Encoding: chunked", "Content-Length: " + rest.length()) + rest;
        });
        list.add("CL+TE with TE: chunked, CL: 0", Expect.REFUSE_OR_FORWARD, 5, false, id -> post(id,
                "Content-Length: 0", "Transfer-Encoding: chunked") + body5 + smuggled(id));
        // Content-Length
        list.add("two different Content-Length", Expect.REFUSE, 0, false, id -> post(id,
                "Content-Length: 5", "Content-Length: 40") + "hello" + smuggled(id));
        list.add("two equal Content-Length", Expect.REFUSE_OR_FORWARD, 5, false, id -> post(id,
                "Content-Length: 5", "Content-Length: 5") + "hello");
        list.add("Content-Length: 5, 5", Expect.REFUSE_OR_FORWARD, 5, false, id -> post(id, "Content-Length: 5, 5") + "hello");
        list.add("Content-Length: 5, 40", Expect.REFUSE, 0, false, id -> post(id, "Content-Length: 5, 40") + "hello" + smuggled(id));
        for (String value : List.of("+5", "-1", "0x5", "5 5", "5;", "99999999999999999999", " ", "5a")) {
            list.add("Content-Length: " + value, Expect.REFUSE, 0, false, id -> post(id, "Content-Length: " + value)
                    + "hello" + smuggled(id));
        }
        // Transfer-Encoding values and spellings
        for (String value : List.of("xchunked", "chunked, identity", "identity", "chunked, chunked", "gzip, chunked",
                "chunked;q=1", "\u000bchunked", "chunk", "chunked\u0000")) {
            list.add("Transfer-Encoding: " + printable(value), Expect.REFUSE_OR_501, 0, false, id -> post(id,
                    "Transfer-Encoding: " + value) + body5 + smuggled(id));
        }
        for (String line : List.of("Transfer-Encoding: ChUnKeD", "transfer-ENCODING: chunked", "Transfer-Encoding:\tchunked",
                "Transfer-Encoding:   chunked   ", "Transfer-Encoding: identity, chunked")) {
            list.add(printable(line), Expect.REFUSE_501_505_OR_FORWARD, 5, false, id -> post(id, line) + body5);
        }
        list.add("Transfer-Encoding : chunked (space before colon)", Expect.REFUSE, 0, false, id -> post(id,
                "Transfer-Encoding : chunked", "Content-Length: 3") + body5 + smuggled(id));
        list.add("two Transfer-Encoding lines chunked + identity", Expect.REFUSE_OR_501, 0, false, id -> post(id,
                "Transfer-Encoding: chunked", "Transfer-Encoding: identity") + body5 + smuggled(id));
        // RFC 9112 5.2: a server rejects obs-fold or replaces it with SP (then this is CL+TE, read as chunked)
        list.add("Transfer-Encoding obs-folded", Expect.REFUSE_OR_FORWARD, 5, false, id -> post(id,
                "Transfer-Encoding:", " chunked", "Content-Length: 3") + body5 + smuggled(id));
        list.add("X-Foo obs-folded", Expect.REFUSE_OR_FORWARD, 0, false, id -> get(id, "X-Foo: a", " b"));
        list.add("X-Foo obs-folded with a tab", Expect.REFUSE_OR_FORWARD, 0, false, id -> get(id, "X-Foo: a", "\tb"));
        // line ends
        list.add("bare LF everywhere", Expect.REFUSE_OR_FORWARD, 0, false, id ->
                "GET /rec/echo?attack=" + id + " HTTP/1.1\nHost: 127.0.0.1\n\n");
        list.add("bare LF in one header line", Expect.REFUSE_OR_FORWARD, 0, false, id ->
                "GET /rec/echo?attack=" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: 1\nX-B: 2\r\n\r\n");
        list.add("bare CR in a header line", Expect.REFUSE, 0, false, id ->
                "GET /rec/echo?attack=" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: 1\rX-B: 2\r\n\r\n");
        list.add("bare CR in the request line", Expect.REFUSE, 0, false, id ->
                "GET /rec/echo?attack=" + id + "\rHTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        list.add("bare CR ending the head", Expect.REFUSE, 0, false, id ->
                "GET /rec/echo?attack=" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\r" + smuggled(id));
        // NUL and other bytes
        list.add("NUL in a header value", Expect.REFUSE, 0, false, id -> get(id, "X-A: a\u0000b"));
        list.add("NUL in a header name", Expect.REFUSE, 0, false, id -> get(id, "X\u0000A: b"));
        refusedTarget(list, "NUL in the path", "/rec/ec\u0000ho");
        refusedTarget(list, "%00 in the path", "/rec/echo%00x");
        refusedTarget(list, "%2f in the path", "/rec/x%2fecho");
        refusedTarget(list, "%2F in the path", "/rec%2Fecho");
        refusedTarget(list, "bad percent-encoding %zz", "/rec/echo%zz");
        refusedTarget(list, "overlong UTF-8 dots %c0%ae", "/rec/%c0%ae%c0%ae/rec/echo");
        list.add("DEL byte in a header value", Expect.REFUSE, 0, false, id -> get(id, "X-A: a\u007fb"));
        // chunk sizes and bodies
        refusedChunked(list, "oversized chunk size", "ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n");
        refusedChunked(list, "chunk size 2^63", "8000000000000000\r\nhello\r\n0\r\n\r\n");
        refusedChunked(list, "negative chunk size", "-5\r\nhello\r\n0\r\n\r\n");
        refusedChunked(list, "non-hex chunk size", "zz\r\nhello\r\n0\r\n\r\n");
        refusedChunked(list, "chunk size with a leading 0x", "0x5\r\nhello\r\n0\r\n\r\n");
        refusedChunked(list, "chunk data without its CRLF", "5\r\nhelloXX0\r\n\r\n");
        refusedChunked(list, "chunk data longer than its size", "3\r\nhello\r\n0\r\n\r\n");
        list.add("chunk size line with bare LF", Expect.REFUSE_OR_FORWARD, 5, false, id -> post(id,
                "Transfer-Encoding: chunked") + "5\nhello\r\n0\r\n\r\n");
        list.add("chunk extension", Expect.REFUSE_OR_FORWARD, 5, false, id -> post(id, "Transfer-Encoding: chunked")
                + "5;name=value\r\nhello\r\n0\r\n\r\n");
        refusedChunked(list, "chunk extension with a quoted CRLF", "5;a=\"\r\n\"\r\nhello\r\n0\r\n\r\n");
        list.add("trailer field after the last chunk", Expect.REFUSE_OR_FORWARD, 5, false, id -> post(id,
                "Transfer-Encoding: chunked") + "5\r\nhello\r\n0\r\nX-Trailer: a\r\n\r\n");
        list.add("trailer Content-Length smuggling", Expect.REFUSE_OR_FORWARD, 5, false, id -> post(id,
                "Transfer-Encoding: chunked") + "5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n");
        list.add("chunked body cut short, then half-close", Expect.REFUSE, 0, true, id -> post(id,
                "Transfer-Encoding: chunked") + "5\r\nhel");
        list.add("Content-Length body cut short, then half-close", Expect.REFUSE, 0, true, id -> post(id,
                "Content-Length: 50") + "hello");
        // header names and the head itself
        for (String line : List.of("Bad Header: x", "X-A\u0001: y", "(x): y", ": no-name", "NoColonAtAll",
                "X-A@B: c", "X-A\"B: c", "X-A[B]: c")) {
            list.add("header line " + printable(line), Expect.REFUSE, 0, false, id -> get(id, line));
        }
        list.add("two Host headers", Expect.REFUSE, 0, false, id -> "GET /rec/echo?attack=" + id
                + " HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n");
        list.add("no Host header", Expect.REFUSE, 0, false, id -> "GET /rec/echo?attack=" + id + " HTTP/1.1\r\n\r\n");
        list.add("Host with a space", Expect.REFUSE, 0, false, id -> "GET /rec/echo?attack=" + id
                + " HTTP/1.1\r\nHost: 127.0.0.1 evil\r\n\r\n");
        list.add("header section of 40 KiB", Expect.REFUSE, 0, false, id -> get(id, "X-Big: " + "a".repeat(40 * 1024)));
        list.add("absolute-form target", Expect.REFUSE_OR_FORWARD, 0, false, id -> "GET http://127.0.0.1/rec/echo?attack="
                + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        list.add("two spaces in the request line", Expect.REFUSE_OR_FORWARD, 0, false, id -> "GET  /rec/echo?attack="
                + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        list.add("HTTP/1.2", Expect.REFUSE_501_505_OR_FORWARD, 0, false, id -> "GET /rec/echo?attack=" + id
                + " HTTP/1.2\r\nHost: 127.0.0.1\r\n\r\n");
        list.add("HTTP/1.0 with chunked", Expect.REFUSE_OR_FORWARD, 5, false, id -> "POST /rec/echo?attack=" + id
                + " HTTP/1.0\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" + body5);
        list.add("Expect: something-else", Expect.REFUSE_OR_FORWARD, 5, false, id -> post(id,
                "Content-Length: 5", "Expect: something-else") + "hello");
        return attacks;
    }

    /** Numbers the attacks (h1x, h2x…: the x ends the number, so no id is a prefix of another). */
    private record AttackList(List<Attack> attacks) {
        void add(String name, Expect expect, int bodyLength, boolean halfClose,
                java.util.function.Function<String, String> bytes) {
            String id = "h" + (attacks.size() + 1) + "x";
            attacks.add(new Attack(id, name, bytes.apply(id).getBytes(StandardCharsets.ISO_8859_1), expect, bodyLength,
                    halfClose));
        }
    }

    private static String post(String id, String... headerLines) {
        return "POST /rec/echo?attack=" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + String.join("\r\n", headerLines) + "\r\n\r\n";
    }

    private static String get(String id, String... headerLines) {
        return "GET /rec/echo?attack=" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + String.join("\r\n", headerLines) + "\r\n\r\n";
    }

    /** A GET of {@code path} (the attack's id in its query), which the front must refuse. */
    private static void refusedTarget(AttackList list, String name, String path) {
        list.add(name, Expect.REFUSE, 0, false, id -> "GET " + path + "?attack=" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    }

    /** A chunked POST with a bad {@code body}, which the front must refuse, and a request smuggled after it. */
    private static void refusedChunked(AttackList list, String name, String body) {
        list.add(name, Expect.REFUSE, 0, false, id -> post(id, "Transfer-Encoding: chunked") + body + smuggled(id));
    }

    private static String smuggled(String id) {
        return "GET /rec/" + SMUGGLED + "-" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    }

    private static String printable(String text) {
        StringBuilder out = new StringBuilder();
        for (char c : text.toCharArray()) {
            out.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        }
        return out.toString();
    }

    private static final Pattern STATUS_LINE = Pattern.compile("HTTP/\\d\\.\\d (\\d{3})\\b.*");

    /** The status code of a status line, or -1 for anything else. */
    private static int statusOf(String answer) {
        Matcher matcher = STATUS_LINE.matcher(answer.trim());
        return matcher.matches() ? Integer.parseInt(matcher.group(1)) : -1;
    }

    private static String nameOf(List<Attack> attacks, String id) {
        return attacks.stream().filter(a -> a.id().equals(id)).findFirst().map(Attack::name).orElse("?");
    }

    // ---------------------------------------------------------------------------------------------
    // Forwarded-header spoofing

    @Test
    void spoofedForwardingHeadersInAnySpellingNeverReachTheBackend() throws IOException {
        List<String> spoofed = List.of(
                "X-Forwarded-For: 6.6.6.6", "X-Forwarded-Proto: https", "X-Forwarded-Host: evil.example",
                "X-Forwarded-Prefix: /evil", "X-Forwarded-Port: 6666", "X-Portico-Token: forged",
                "X-Portico-Principal: mallory", "X-Portico-Event: shutdown",
                "Forwarded: for=6.6.6.6;proto=https;host=evil.example", "X-Real-IP: 6.6.6.6",
                "X_Forwarded_For: 6.6.6.6", "X_Forwarded_Proto: https", "X_Forwarded_Host: evil.example",
                "X_Forwarded_Prefix: /evil", "X_Forwarded_Port: 6666", "X_Portico_Token: forged",
                "X_Portico_Principal: mallory", "X_Real_IP: 6.6.6.6", "X-Forwarded_For: 6.6.6.6", "X_Forwarded-For: 6.6.6.6",
                "x-forwarded-for: 6.6.6.6", "X-FORWARDED-FOR: 6.6.6.6", "x-PORTICO-token: forged", "FORWARDED: for=6.6.6.6",
                "x-real-ip: 6.6.6.6", "X-Forwarded-For: 6.6.6.6, 7.7.7.7", "X-Forwarded-For:6.6.6.6",
                "X-Forwarded-Host: evil.example:443", "X_PORTICO_TOKEN: forged", "x_portico_principal: mallory");
        List<String> failures = new ArrayList<>();
        // all at once, then each alone (a header that is only removed when another one is present)
        List<List<String>> requests = new ArrayList<>();
        requests.add(spoofed);
        spoofed.forEach(line -> requests.add(List.of(line)));
        // X-Forwarded-Port is the port the client connected to, whatever the Host header says
        List<String> hosts = List.of("127.0.0.1:" + tomcat.httpPort(), "127.0.0.1", "127.0.0.1:6666", "evil.example");
        for (int r = 0; r < requests.size() + hosts.size() - 1; r++) {
            List<String> headers = r < requests.size() ? requests.get(r) : spoofed;
            String host = r < requests.size() ? hosts.get(0) : hosts.get(r - requests.size() + 1);
            VARIANTS.incrementAndGet();
            RawResponse response;
            try (RawConnection connection = RawHttp.connect(tomcat.httpPort(), ANSWER_TIMEOUT)) {
                StringBuilder head = new StringBuilder("GET /rec/echo?spoof=1 HTTP/1.1\r\nHost: " + host + "\r\n");
                headers.forEach(line -> head.append(line).append("\r\n"));
                connection.send(head.append("\r\n").toString());
                response = connection.readResponse("GET");
            }
            String what = (headers.size() == 1 ? headers.get(0) : "all " + headers.size() + " spoofed headers at once")
                    + " (Host: " + host + ")";
            if (response.status() != 200) {
                failures.add(what + ": answered " + response);
                continue;
            }
            EchoedRequest echo = EchoedRequest.parse(response.text());
            Map<String, String> expected = Map.of("x-forwarded-for", "127.0.0.1", "x-forwarded-proto", "http",
                    "x-forwarded-host", host, "x-forwarded-prefix", "/rec",
                    "x-forwarded-port", Integer.toString(tomcat.httpPort()));
            for (JsonNode pair : echo.json().path("rawHeaders")) {
                String name = pair.get(0).asText();
                String value = pair.get(1).asText();
                String dashed = name.toLowerCase(Locale.ROOT).replace('_', '-');
                if (!PROTECTED.contains(dashed)) {
                    continue;
                }
                if (!name.equals(dashed)) {
                    failures.add(what + ": the backend received " + name + ": " + value
                            + " (an underscore spelling of " + dashed + ")");
                } else if (expected.containsKey(name) && !expected.get(name).equals(value)) {
                    failures.add(what + ": the backend received " + name + ": " + value + " instead of Portico's "
                            + expected.get(name));
                } else if (name.equals("x-portico-token") && value.equals("forged")) {
                    failures.add(what + ": the backend received the client's X-Portico-Token");
                } else if (Set.of("x-portico-principal", "x-portico-event", "forwarded", "x-real-ip").contains(name)) {
                    failures.add(what + ": the backend received the client's " + name + ": " + value);
                }
            }
            for (String name : List.of("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port",
                    "x-forwarded-prefix", "x-portico-token")) {
                int copies = echo.headerValues(name).size();
                if (copies != 1) {
                    failures.add(what + ": the backend received " + copies + " " + name + " headers: "
                            + echo.headerValues(name));
                }
            }
        }
        System.out.printf("[hostile] header spoofing: %d variants (%d spellings, %d Host headers), %d failures%n",
                requests.size() + hosts.size() - 1, spoofed.size(), hosts.size(), failures.size());
        failures.stream().distinct().forEach(failure -> System.out.println("[hostile]   FAIL " + failure));
        assertTrue(failures.isEmpty(), String.join("\n  ", failures.stream().distinct().toList()));
    }

    // ---------------------------------------------------------------------------------------------
    // The reserved path

    @Test
    void aClientNeverReachesTheBackendsReservedPath() throws IOException {
        long pid = tomcat.http().getJson("/rec/env").path("pid").asLong();
        List<String> paths = List.of("/rec/.portico/shutdown", "/rec/%2eportico/shutdown", "/rec/%2Eportico/shutdown",
                "/rec/.portico;x/shutdown", "/rec//.portico/shutdown", "/rec/./.portico/shutdown",
                "/rec/x/../.portico/shutdown", "/rec/.portico/shutdown;x", "/rec/.portico/shutdown?x=1",
                "/rec/.portico/%73hutdown", "/rec/.portico/shutdown/", "/rec/.portico/", "/rec/.portico",
                "/rec/%2e%70ortico/shutdown", "//rec/.portico/shutdown", "/rec/.portico//shutdown",
                "/rec/.portico/./shutdown", "/rec/.%70ortico/shutdown");
        List<String> failures = new ArrayList<>();
        List<String> answers = new ArrayList<>();
        for (String path : paths) {
            VARIANTS.incrementAndGet();
            for (String method : List.of("POST", "GET")) {
                try (RawConnection connection = RawHttp.connect(tomcat.httpPort(), ANSWER_TIMEOUT)) {
                    connection.send(RawHttp.head(method, path, "X-Portico-Token: forged", "X-Portico-Event: shutdown",
                            "Content-Length: 0"));
                    RawResponse response = connection.readResponse(method);
                    answers.add(method + " " + path + " -> " + response.head().statusLine());
                    if (response.status() != 404 && response.status() != 400) {
                        failures.add(method + " " + path + ": answered " + response + " instead of 404 (or 400)");
                    }
                } catch (IOException e) {
                    failures.add(method + " " + path + ": " + e);
                }
            }
        }
        Poll.sleep(Duration.ofMillis(300));
        for (JsonNode entry : BackendRecord.entries(tomcat, "rec")) {
            if (entry.path("kind").asText().equals("body")) {
                continue; // the same request again, once its body was read
            }
            String url = entry.path("url").asText();
            String decoded;
            try {
                decoded = java.net.URLDecoder.decode(url.replace("+", "%2B"), StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
            } catch (IllegalArgumentException e) {
                decoded = url.toLowerCase(Locale.ROOT);
            }
            if (decoded.contains(".portico") || decoded.contains("shutdown")) {
                failures.add("the backend received " + entry.path("method").asText() + " " + url);
            }
        }
        boolean running = Pids.isRunning(pid)
                && tomcat.http().getJson("/rec/env").path("pid").asLong() == pid;
        if (!running) {
            failures.add("the backend (pid " + pid + ") did not keep running");
        }
        System.out.printf("[hostile] reserved path: %d variants (POST and GET), %d failures%n", paths.size(),
                failures.size());
        answers.forEach(answer -> System.out.println("[hostile]   " + answer));
        failures.forEach(failure -> System.out.println("[hostile]   FAIL " + failure));
        assertTrue(failures.isEmpty(), String.join("\n  ", failures));
    }

    // ---------------------------------------------------------------------------------------------
    // Path escapes between two apps

    /**
     * A probe and the path the front means by it (Tomcat's normalisation), or null: it must be refused.
     * {@code alsoMeant} is a second spelling that means the same (a path parameter kept on a segment).
     */
    private record Probe(String path, String meant, String alsoMeant) {
        Probe(String path, String meant) {
            this(path, meant, meant);
        }
    }

    @Test
    void aBackendOnlyReceivesPathsInsideItsOwnBaseAsTheFrontRoutedThem() throws IOException {
        List<Probe> probes = List.of(
                new Probe("/a/..;/b/x", "/b/x"), new Probe("/a/.;/../b/x", "/b/x"), new Probe("/a/%2e%2e;/b/x", "/b/x"),
                new Probe("//a/../b/x", "/b/x"), new Probe("/a//../b/x", "/b/x"), new Probe("/a/%2e%2e/b/x", "/b/x"),
                new Probe("/a/%2E%2E/b/x", "/b/x"), new Probe("/a/.%2e/b/x", "/b/x"), new Probe("/a/%2e./b/x", "/b/x"),
                new Probe("/a/x/..;/..;/b/x", "/b/x"), new Probe("/a;x/../b/x", "/b/x"), new Probe("/a/..;x=y/b/x", "/b/x"),
                new Probe("/a/x/%2e%2e/%2e%2e/b/x", "/b/x"), new Probe("/%61/../b/x", "/b/x"), new Probe("/b/../a/x", "/a/x"),
                new Probe("/a/./x", "/a/x"), new Probe("/a/%2e/x", "/a/x"), new Probe("/a/x/../y", "/a/y"),
                new Probe("/a/;x/y", "/a/y"), new Probe("/a/x;jsessionid=1", "/a/x", "/a/x;jsessionid=1"), new Probe("/a/.../x", "/a/.../x"),
                new Probe("/a/%252e%252e/b/x", "/a/%252e%252e/b/x"),
                new Probe("/a/..%2fb/x", null), new Probe("/a/..%2Fb/x", null), new Probe("/a/..\\b/x", null),
                new Probe("/a/%5c..%5cb/x", null), new Probe("/a/../../b/x", null), new Probe("/A/x", null),
                new Probe("/a/%2e%2e/%2e%2e/b/x", null), new Probe("/a/..%00/b/x", null));
        List<String> failures = new ArrayList<>();
        List<String> answers = new ArrayList<>();
        List<String> statusLines = new ArrayList<>();
        for (int i = 0; i < probes.size(); i++) {
            VARIANTS.incrementAndGet();
            Probe probe = probes.get(i);
            String target = probe.path() + "?probe=p" + i + "x";
            String answer;
            try (RawConnection connection = RawHttp.connect(tomcat.httpPort(), ANSWER_TIMEOUT)) {
                connection.send(RawHttp.head("GET", target));
                answer = connection.readResponse("GET").head().statusLine();
            } catch (IOException e) {
                answer = "(" + e + ")";
                failures.add(probe.path() + ": " + e);
            }
            statusLines.add(answer);
            answers.add(String.format("%-28s -> %s", probe.path(), answer));
        }
        Poll.sleep(Duration.ofMillis(300));
        List<JsonNode> seenByA = BackendRecord.entries(tomcat, "a");
        List<JsonNode> seenByB = BackendRecord.entries(tomcat, "b");
        for (int i = 0; i < probes.size(); i++) {
            Probe probe = probes.get(i);
            String marker = "probe=p" + i + "x";
            String answer = statusLines.get(i);
            List<String> received = new ArrayList<>();
            for (var entry : Map.of("a", seenByA, "b", seenByB).entrySet()) {
                entry.getValue().stream().filter(e -> e.path("kind").asText().equals("request"))
                        .map(e -> e.path("url").asText()).filter(url -> url.endsWith(marker))
                        .forEach(url -> received.add(entry.getKey() + " " + url.substring(0, url.indexOf('?'))));
            }
            int status = statusOf(answer);
            boolean refused = status >= 400 && status < 500;
            if (status >= 500) {
                failures.add(probe.path() + ": answered " + answer);
                continue;
            }
            if (received.isEmpty()) {
                if (!refused) {
                    failures.add(probe.path() + ": answered " + answer + " but no backend received it");
                }
                continue;
            }
            if (received.size() > 1) {
                failures.add(probe.path() + ": received by more than one backend: " + received);
                continue;
            }
            String app = received.get(0).substring(0, 1);
            String path = received.get(0).substring(2);
            List<String> problems = new ArrayList<>();
            if (!path.startsWith("/" + app + "/") && !path.equals("/" + app)) {
                problems.add("outside its base /" + app);
            }
            if (UNCLEAN_PATH.matcher(path).find()) {
                problems.add("with a dot segment, an empty segment, an encoded dot, slash or backslash");
            }
            if (probe.meant() == null) {
                problems.add("the front should have refused it");
            } else if (!path.equals(probe.meant()) && !path.equals(probe.alsoMeant())) {
                problems.add("not what the front means by it (" + probe.meant() + ")");
            }
            if (!problems.isEmpty()) {
                failures.add(probe.path() + " reached backend " + app + " as " + path + ": " + String.join("; ", problems)
                        + " (answered " + answer + ")");
            }
        }
        System.out.printf("[hostile] path escapes: %d variants, %d failures%n", probes.size(), failures.size());
        answers.forEach(answer -> System.out.println("[hostile]   " + answer));
        failures.forEach(failure -> System.out.println("[hostile]   FAIL " + failure));
        assertTrue(failures.isEmpty(), String.join("\n  ", failures));
    }
}
