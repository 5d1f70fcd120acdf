package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.portico.testsupport.Json;

/**
 * The recipes of docs/frameworks.md, each hosted behind the real Tomcat distribution with the
 * portico.xml the doc gives: Flask on gunicorn, Starlette on uvicorn (Debian packages), Express
 * (npm), a Spring Boot jar (Maven Central) with and without a forward-headers strategy, and the
 * plain Jakarta sample WAR in both models. Each app answers {@code whoami} (what it sees of the
 * request: host, scheme, client address, URL) and {@code go} (a redirect to whoami as the
 * framework writes one). The client reaches Tomcat over TLS as {@code https://localhost:<port>},
 * and over plain HTTP from 127.0.0.2 so that the client address differs from Portico's.
 */
class FrameworksIT {

    private static final Duration JVM_START = Duration.ofSeconds(90);
    /** The first request of every app, which waits for its process to start, in ms. */
    private static final Map<String, Long> FIRST_REQUEST_MILLIS = new TreeMap<>();

    private static TomcatDistribution tomcat;
    private static HttpClient client;
    private static boolean python;
    private static boolean expressInstalled;

    /** What an app sees of a request, in the same terms for every framework. */
    record View(String host, String scheme, String client, String url) {
    }

    @BeforeAll
    static void hostEveryFramework() throws IOException {
        Path frameworks = E2eSettings.frameworksDir();
        TestKeystore keystore = TestKeystore.create(E2eSettings.workDir().resolve("frameworks-keystore"));
        tomcat = TomcatDistribution.named("frameworks").tls(keystore.file(), keystore.password()).create();
        python = E2eSettings.runs("gunicorn", "--version") && E2eSettings.runs("uvicorn", "--version")
                && E2eSettings.runs("/usr/bin/python3", "-c", "import flask, starlette");
        if (python) {
            tomcat.installApp("flask", frameworks.resolve("flask"), gunicorn("", "127.0.0.1:%PORTICO_PORT%"));
            tomcat.installApp("starlette", frameworks.resolve("starlette"), porticoXml("""
                    <portico processPath="uvicorn" arguments="--host 127.0.0.1 --port %PORTICO_PORT% app:app"/>
                    """));
            // the same apps on a Unix domain socket (transport="unix"), as docs/frameworks.md gives them
            tomcat.installApp("flask-unix", frameworks.resolve("flask"), gunicorn(" transport=\"unix\"", "unix:%PORTICO_SOCKET%"));
            tomcat.installApp("starlette-unix", frameworks.resolve("starlette"), porticoXml("""
                    <portico processPath="uvicorn" transport="unix" arguments="--uds %PORTICO_SOCKET% --forwarded-allow-ips * app:app"/>
                    """));
        }
        expressInstalled = Files.isDirectory(frameworks.resolve("express/node_modules/express"));
        if (expressInstalled) {
            tomcat.installApp("express", frameworks.resolve("express"), porticoXml("""
                    <portico processPath="node" arguments="app.js"/>
                    """));
            tomcat.installApp("express-unix", frameworks.resolve("express"), porticoXml("""
                    <portico processPath="node" arguments="app.js" transport="unix"/>
                    """));
        }
        Path jar = E2eSettings.springBootJar();
        String spring = "-XX:TieredStopAtLevel=1 -Xmx128m -jar " + jar + " --server.address=127.0.0.1"
                + " --server.port=%PORTICO_PORT% --server.servlet.context-path=%PORTICO_PATH_BASE%";
        tomcat.writeApp("spring", AppFile.of("portico.xml", "<portico processPath=\"java\" startupTimeLimit=\""
                + JVM_START.toSeconds() + "\" arguments=\"" + spring + " --server.forward-headers-strategy=native\"/>\n"));
        tomcat.writeApp("spring-unmodified", AppFile.of("portico.xml", "<portico processPath=\"java\" startupTimeLimit=\""
                + JVM_START.toSeconds() + "\" arguments=\"" + spring + "\"/>\n"));
        Path war = E2eSettings.sampleWar();
        tomcat.installApp("war", war);
        tomcat.installApp("war-oop", war, PorticoXml.warRunner(JVM_START).asWarFile());
        tomcat.start();
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(keystore.clientContext())
                .connectTimeout(Duration.ofSeconds(30)).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    private static AppFile porticoXml(String xml) {
        return AppFile.of("portico.xml", xml);
    }

    /** Flask under gunicorn, bound to {@code bind}, told its path base in SCRIPT_NAME (docs/frameworks.md). */
    private static AppFile gunicorn(String transportAttribute, String bind) {
        return porticoXml("""
                <portico processPath="gunicorn"%s arguments="--bind %s --workers 2 app:app">
                  <environmentVariables>
                    <environmentVariable name="SCRIPT_NAME" value="%%PORTICO_PATH_BASE%%"/>
                  </environmentVariables>
                </portico>
                """.formatted(transportAttribute, bind));
    }

    @AfterAll
    static void stopTomcat() {
        TomcatDistribution.closeAndAssertCleanLog(tomcat);
        System.out.println("first request (process start included), ms: " + FIRST_REQUEST_MILLIS);
    }

    @Test
    void flaskOnGunicorn() {
        E2eSettings.assumeInstalled(python, "Debian's gunicorn, uvicorn, python3-flask and python3-starlette are not installed");
        View seen = check("flask", "/whoami", "/go");
        // ProxyFix(x_for=1): the client's address, not Portico's
        assertEquals("127.0.0.2", viewFromSecondLoopbackAddress("flask", "/whoami").client(), seen.toString());
        // gunicorn 20 takes a SCRIPT_NAME request header over its environment's (a 500 when the path
        // does not start with it, a wrong path base when it does): Portico never forwards one
        for (String spoof : new String[] {"SCRIPT_NAME: /evil", "SCRIPT_NAME: /flask/who", "script_name: /"}) {
            assertEquals("http://shop.example:" + tomcat.httpPort() + "/flask/whoami",
                    viewFromSecondLoopbackAddress("flask", "/whoami", spoof).url(), spoof);
        }
    }

    @Test
    void starletteOnUvicorn() {
        E2eSettings.assumeInstalled(python, "Debian's gunicorn, uvicorn, python3-flask and python3-starlette are not installed");
        check("starlette", "/whoami", "/go");
        assertEquals("127.0.0.2", viewFromSecondLoopbackAddress("starlette", "/whoami").client());
    }

    @Test
    void expressWithTrustProxy() {
        E2eSettings.assumeInstalled(expressInstalled,
                "express is not installed in integration-tests/frameworks/express (npm ci --prefix integration-tests/frameworks/express)");
        check("express", "/whoami", "/go");
        assertEquals("127.0.0.2", viewFromSecondLoopbackAddress("express", "/whoami").client());
    }

    @Test
    void flaskStarletteAndExpressOverAUnixSocket() {
        E2eSettings.assumeInstalled(python && expressInstalled,
                "gunicorn, uvicorn, Flask, Starlette (Debian) and express (npm) are needed");
        for (String app : new String[] {"flask-unix", "starlette-unix", "express-unix"}) {
            check(app, "/whoami", "/go");
            assertEquals("127.0.0.2", viewFromSecondLoopbackAddress(app, "/whoami").client(), app);
        }
    }

    @Test
    void springBootWithTheNativeForwardHeadersStrategy() {
        check("spring", "/whoami", "/go");
        assertEquals("127.0.0.2", viewFromSecondLoopbackAddress("spring", "/whoami").client());
    }

    /**
     * Spring Boot with no setting at all: the client's Host reaches it (so host and port of its
     * URLs and redirects are the front's), but without a forward-headers strategy it trusts no
     * forwarded header: over HTTPS it believes http, and the client address is Portico's.
     */
    @Test
    void springBootUnmodifiedGetsTheHostButNotTheScheme() {
        String base = "https://localhost:" + tomcat.httpsPort() + "/spring-unmodified";
        View seen = view("spring-unmodified", firstGet("spring-unmodified", URI.create(base + "/whoami")));
        assertEquals("localhost:" + tomcat.httpsPort(), seen.host());
        assertEquals("http", seen.scheme());
        assertEquals("127.0.0.1", seen.client());
        HttpResponse<String> redirect = get(URI.create(base + "/go"));
        assertEquals(302, redirect.statusCode());
        assertEquals("http://localhost:" + tomcat.httpsPort() + "/spring-unmodified/whoami", location(redirect));
        assertEquals("127.0.0.1", viewFromSecondLoopbackAddress("spring-unmodified", "/whoami").client());
    }

    @Test
    void jakartaWarInProcess() {
        check("war", "/info", "/redirect?absolute=true");
        assertEquals("/war/info", get(URI.create("https://localhost:" + tomcat.httpsPort() + "/war/redirect"))
                .headers().firstValue("location").map(l -> URI.create("https://x/war/redirect").resolve(l).getPath()).orElse(null));
        assertEquals("127.0.0.2", viewFromSecondLoopbackAddress("war", "/info").client());
    }

    @Test
    void jakartaWarOutOfProcessUnderTheWarRunner() {
        check("war-oop", "/info", "/redirect?absolute=true");
        assertEquals("127.0.0.2", viewFromSecondLoopbackAddress("war-oop", "/info").client());
    }

    /**
     * Over HTTPS: the app sees the client's host, port and scheme, builds its URL from them, and
     * its redirect's Location leads back to the front.
     */
    private static View check(String app, String whoami, String go) {
        String base = "https://localhost:" + tomcat.httpsPort() + "/" + app;
        View seen = view(app, firstGet(app, URI.create(base + whoami)));
        assertEquals("localhost:" + tomcat.httpsPort(), seen.host(), app + " sees the client's host and port");
        assertEquals("https", seen.scheme(), app + " sees the client's scheme: " + seen);
        assertEquals(base + whoami, seen.url(), app + " builds its URL from what the client used");
        HttpResponse<String> redirect = get(URI.create(base + go));
        assertTrue(redirect.statusCode() == 302 || redirect.statusCode() == 303 || redirect.statusCode() == 307,
                app + ": " + redirect.statusCode() + " " + redirect.body());
        assertEquals(base + whoami.replaceAll("\\?.*", ""), location(redirect), app + "'s redirect leads to the front");
        return seen;
    }

    /** Location resolved against the request (a relative Location is as good as an absolute one). */
    private static String location(HttpResponse<String> redirect) {
        return redirect.uri().resolve(redirect.headers().firstValue("location").orElseThrow()).toString();
    }

    private static JsonNode firstGet(String app, URI uri) {
        long start = System.nanoTime();
        HttpResponse<String> response = get(uri);
        FIRST_REQUEST_MILLIS.put(app, (System.nanoTime() - start) / 1_000_000);
        assertEquals(200, response.statusCode(), app + ": " + response.body());
        return Json.tree(response.body());
    }

    private static HttpResponse<String> get(URI uri) {
        try {
            return client.send(HttpRequest.newBuilder(uri).timeout(JVM_START).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + uri, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static View view(String app, JsonNode json) {
        if (app.startsWith("war")) {
            return new View(json.path("serverName").asText() + ":" + json.path("serverPort").asInt(),
                    json.path("scheme").asText(), json.path("remoteAddr").asText(), json.path("requestURL").asText());
        }
        return new View(json.path("host").asText(), json.path("scheme").asText(), json.path("client").asText(),
                json.path("url").asText());
    }

    /** A plain-HTTP GET from 127.0.0.2 (any loopback address reaches Tomcat's 127.0.0.1), with a Host of its own. */
    private static View viewFromSecondLoopbackAddress(String app, String path, String... headerLines) {
        String host = "shop.example:" + tomcat.httpPort();
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), tomcat.httpPort()), 5000);
            socket.setSoTimeout((int) JVM_START.toMillis());
            OutputStream out = socket.getOutputStream();
            StringBuilder head = new StringBuilder("GET /" + app + path + " HTTP/1.1\r\nHost: " + host + "\r\n");
            for (String line : headerLines) {
                head.append(line).append("\r\n");
            }
            out.write(head.append("Connection: close\r\n\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 200"), app + ": " + answer);
            String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
            if (answer.toLowerCase().contains("transfer-encoding: chunked")) {
                body = dechunk(body);
            }
            View seen = view(app, Json.tree(body));
            assertEquals(host, seen.host(), app + " sees the client's Host over HTTP/1.1 too");
            assertEquals("http", seen.scheme(), app);
            return seen;
        } catch (IOException e) {
            throw new UncheckedIOException(app, e);
        }
    }

    private static String dechunk(String chunked) {
        StringBuilder body = new StringBuilder();
        int at = 0;
        while (true) {
            int lineEnd = chunked.indexOf("\r\n", at);
            int size = Integer.parseInt(chunked.substring(at, lineEnd).split(";")[0].trim(), 16);
            if (size == 0) {
                return body.toString();
            }
            body.append(chunked, lineEnd + 2, lineEnd + 2 + size);
            at = lineEnd + 2 + size + 2;
        }
    }
}
