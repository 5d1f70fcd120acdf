package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.portico.testsupport.Json;
import dev.portico.testsupport.TestBodies;

/**
 * HTTP/2 at the front (issue 10, item 7): Tomcat's {@code Http2Protocol} on the HTTP connector
 * (h2c) and on a TLS connector (h2 by ALPN, with a self-signed certificate made for the test), a
 * real HTTP/2 client ({@link HttpClient}, {@code HTTP_2}). An HTTP/2 request has no {@code Host}
 * header, only {@code :authority}: the backend must still get the client's authority as
 * {@code Host} and {@code X-Forwarded-Host}, and an app (in-process, out-of-process under the WAR
 * runner, and the same WAR in {@code webapps/}) must see the client's host, port and scheme.
 */
class Http2FrontIT {

    private static final Duration CHILD_JVM_START = Duration.ofSeconds(90);

    private static TomcatDistribution tomcat;
    private static TestKeystore keystore;
    private static HttpClient client;

    @BeforeAll
    static void startTomcatWithHttp2() throws Exception {
        keystore = TestKeystore.create(E2eSettings.workDir().resolve("h2-keystore"));
        tomcat = TomcatDistribution.named("http2").http2().tls(keystore.file(), keystore.password()).create();
        tomcat.writeApp("h2", PorticoXml.nodeBackend().attribute("requestTimeout", "00:00:30").asFile());
        Path sample = E2eSettings.sampleWar();
        tomcat.installApp("inproc", sample);
        tomcat.installApp("outproc", sample, PorticoXml.warRunner(CHILD_JVM_START).asWarFile());
        tomcat.installWebapp("plain", sample);
        tomcat.start();
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(keystore.clientContext())
                .connectTimeout(Duration.ofSeconds(30)).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @AfterAll
    static void stopTomcat() {
        TomcatDistribution.closeAndAssertCleanLog(tomcat);
    }

    private static URI h2c(String path) {
        return URI.create("http://localhost:" + tomcat.httpPort() + path);
    }

    private static URI h2(String path) {
        return URI.create("https://localhost:" + tomcat.httpsPort() + path);
    }

    private static HttpResponse<String> get(URI uri) {
        return send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).GET().build());
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(request.method() + " " + request.uri() + " failed", e);
        }
    }

    /** A GET that travelled as an HTTP/2 stream: no Host header on the wire, only :authority. */
    private static EchoedRequest echoOverHttp2(URI uri) {
        HttpResponse<String> response = get(uri);
        assertEquals(200, response.statusCode(), response.body());
        assertEquals(HttpClient.Version.HTTP_2, response.version(), uri + " was answered over HTTP/2");
        return EchoedRequest.parse(response.body());
    }

    @Test
    void h2cStreamsCarryTheClientsAuthorityToTheBackend() {
        // the first request upgrades the connection (it still has a Host header); later ones are h2 streams
        get(h2c("/h2/echo?upgrade"));
        EchoedRequest echo = echoOverHttp2(h2c("/h2/echo?stream"));
        String authority = "localhost:" + tomcat.httpPort();
        assertEquals(authority, echo.singleHeader("host"));
        assertEquals(authority, echo.singleHeader("x-forwarded-host"));
        assertEquals("http", echo.singleHeader("x-forwarded-proto"));
        assertEquals(Integer.toString(tomcat.httpPort()), echo.singleHeader("x-forwarded-port"));
    }

    @Test
    void h2OverTlsCarriesTheClientsAuthorityAndScheme() {
        EchoedRequest echo = echoOverHttp2(h2("/h2/echo"));
        String authority = "localhost:" + tomcat.httpsPort();
        assertEquals(authority, echo.singleHeader("host"));
        assertEquals(authority, echo.singleHeader("x-forwarded-host"));
        assertEquals("https", echo.singleHeader("x-forwarded-proto"));
        assertEquals("/h2", echo.singleHeader("x-forwarded-prefix"));
    }

    @Test
    void aFiveMebibyteBodyGoesThroughAnHttp2Stream() throws Exception {
        byte[] body = new byte[5 * 1024 * 1024];
        new Random(10).nextBytes(body);
        HttpResponse<String> response = send(HttpRequest.newBuilder(h2("/h2/echo")).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
        assertEquals(200, response.statusCode(), response.body());
        assertEquals(HttpClient.Version.HTTP_2, response.version());
        EchoedRequest echo = EchoedRequest.parse(response.body());
        assertEquals(body.length, echo.bodyLength());
        assertEquals(TestBodies.sha256(body), echo.bodySha256());
    }

    @Test
    void concurrentStreamsOnOneConnectionEachGetTheirOwnAnswer() throws Exception {
        get(h2("/h2/echo?warm")); // one connection, opened before the burst
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            byte[] body = ("stream " + i + " ").repeat(1000 + 500 * i).getBytes();
            answers.add(client.sendAsync(HttpRequest.newBuilder(h2("/h2/mirror?tag=t" + i))
                    .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < answers.size(); i++) {
            HttpResponse<String> answer = answers.get(i).get();
            assertEquals(200, answer.statusCode());
            assertEquals(HttpClient.Version.HTTP_2, answer.version());
            assertEquals("t" + i, answer.headers().firstValue("x-request-tag").orElse(null));
            assertEquals(("stream " + i + " ").repeat(1000 + 500 * i), answer.body());
        }
    }

    /**
     * The same WAR in three places answers the same: in-process, out-of-process (the WAR runner
     * and portico-integration read the forwarded headers) and deployed by Tomcat from webapps/.
     */
    @Test
    void aWarSeesTheClientsHostPortAndSchemeOverHttp2InEveryModel() {
        for (String app : List.of("/plain", "/inproc", "/outproc")) {
            for (URI base : List.of(h2c(app), h2(app))) {
                get(URI.create(base + "/info")); // an upgrade on h2c, the child JVM's start out of process
                HttpResponse<String> response = get(URI.create(base + "/info"));
                assertEquals(200, response.statusCode(), base + ": " + response.body());
                assertEquals(HttpClient.Version.HTTP_2, response.version(), base.toString());
                JsonNode info = Json.tree(response.body());
                boolean tls = base.getScheme().equals("https");
                assertEquals(base.getScheme(), info.path("scheme").asText(), base + ": " + info);
                assertEquals(tls, info.path("secure").asBoolean(), base + ": " + info);
                assertEquals("localhost", info.path("serverName").asText(), base + ": " + info);
                assertEquals(base.getPort(), info.path("serverPort").asInt(), base + ": " + info);
                assertEquals(base + "/info", info.path("requestURL").asText(), base + ": " + info);

                HttpResponse<String> redirect = get(URI.create(base + "/redirect?absolute=true"));
                assertEquals(302, redirect.statusCode(), base.toString());
                assertEquals(base + "/info", redirect.headers().firstValue("location").orElse(null), base.toString());
                HttpResponse<String> relative = get(URI.create(base + "/redirect"));
                assertEquals(302, relative.statusCode(), base.toString());
                assertEquals(base + "/info", URI.create(base + "/redirect").resolve(relative.headers().firstValue("location").orElseThrow()).toString(),
                        base.toString());
            }
        }
    }
}
