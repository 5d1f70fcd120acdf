package dev.portico.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import dev.portico.PorticoValve;
import dev.portico.testsupport.EmbeddedTomcat;
import dev.portico.testsupport.HttpTestClient;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;
import dev.portico.testsupport.RawConnection;
import dev.portico.testsupport.RawHttp;
import dev.portico.testsupport.RawResponseHead;
import dev.portico.testsupport.TestBodies;
import dev.portico.testsupport.TestFiles;
import dev.portico.testsupport.TextWebSocket;

/**
 * An embedded Tomcat on a free loopback port with the Portico valve on its Host, an apps
 * directory to deploy into, and a plain front webapp at {@code /plain} to prove fall-through.
 *
 * <p>Either started at once ({@link #start}, for a test of its own) or, as a JUnit extension in a
 * static field, for a whole test class: <pre>
 * &#64;RegisterExtension
 * static final HostingTomcat tomcat = HostingTomcat.perClass(valve -&gt; valve.setShutdownTimeLimit(2));
 * </pre> started before the class's {@code @BeforeAll} methods and closed after its {@code @AfterAll} ones.
 */
public final class HostingTomcat implements AutoCloseable, BeforeAllCallback, AfterAllCallback {

    public static final Path NODE_BACKEND = Path.of(System.getProperty("portico.nodeBackend",
            "../integration-tests/backends/node/server.js")).toAbsolutePath().normalize();
    /** The exploded sample WAR (plugin/pom.xml unpacks it before the tests). */
    public static final Path SAMPLE_WAR = Path.of(System.getProperty("portico.sampleWar", "target/portico-sample"))
            .toAbsolutePath().normalize();
    /** Where {@link #withStatusPage()} puts the valve's status page. */
    public static final String STATUS_PATH = "/portico-status";
    /** Limits for a WAR under the WAR runner: a child JVM may take a while to start on a busy machine. */
    public static final Consumer<PorticoValve> CHILD_JVM_LIMITS = valve -> {
        valve.setStartupTimeLimit(90);
        valve.setShutdownTimeLimit(10);
    };
    /** How long the valve may take to notice an app put into (or taken out of) its appBase. */
    private static final Duration HOSTED = Duration.ofSeconds(10);

    private final Consumer<PorticoValve> configure;
    private final Consumer<Tomcat> beforeStart;
    private boolean statusPage;
    private EmbeddedTomcat embedded;
    private PorticoValve valve;
    private Path apps;
    private HttpTestClient http;

    private HostingTomcat(Consumer<PorticoValve> configure, Consumer<Tomcat> beforeStart) {
        this.configure = configure;
        this.beforeStart = beforeStart;
    }

    /** Started now. */
    public static HostingTomcat start(Consumer<PorticoValve> configure) throws LifecycleException {
        return start(configure, tomcat -> { });
    }

    /** @param beforeStart adjusts the embedded Tomcat before it starts (e.g. {@code Tomcat::enableNaming}) */
    public static HostingTomcat start(Consumer<PorticoValve> configure, Consumer<Tomcat> beforeStart)
            throws LifecycleException {
        HostingTomcat tomcat = new HostingTomcat(configure, beforeStart);
        tomcat.startNow();
        return tomcat;
    }

    /** Started before the test class, closed after it (register it with {@code @RegisterExtension}). */
    public static HostingTomcat perClass(Consumer<PorticoValve> configure) {
        return perClass(configure, tomcat -> { });
    }

    public static HostingTomcat perClass(Consumer<PorticoValve> configure, Consumer<Tomcat> beforeStart) {
        return new HostingTomcat(configure, beforeStart);
    }

    /** The valve serves its status page at {@link #STATUS_PATH} (unless the configuration says otherwise). */
    public HostingTomcat withStatusPage() {
        statusPage = true;
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws LifecycleException {
        startNow();
    }

    @Override
    public void afterAll(ExtensionContext context) throws LifecycleException {
        close();
    }

    private void startNow() throws LifecycleException {
        embedded = new EmbeddedTomcat("portico-test-");
        try {
            Tomcat tomcat = embedded.tomcat();
            apps = embedded.directory("apps");
            tomcat.getHost().setAppBase(embedded.directory("webapps").toString());
            addPlainWebapp(tomcat);
            tomcat.addUser("alice", "secret");
            tomcat.addRole("alice", "user");
            valve = new PorticoValve();
            valve.setAppBase(apps.toString());
            valve.setScanInterval(50);
            if (statusPage) {
                valve.setStatusPath(STATUS_PATH);
            }
            configure.accept(valve);
            tomcat.getHost().getPipeline().addValve(valve);
            beforeStart.accept(tomcat);
            embedded.start();
            http = new HttpTestClient(URI.create("http://127.0.0.1:" + embedded.port()), Duration.ofSeconds(60));
        } catch (LifecycleException | RuntimeException e) {
            embedded.close();
            throw e;
        }
    }

    private static void addPlainWebapp(Tomcat tomcat) {
        Context plain = tomcat.addContext("/plain", null);
        Tomcat.addServlet(plain, "plain", new HttpServlet() {
            @Override
            protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                resp.setContentType("text/plain");
                resp.getWriter().print("plain tomcat " + req.getRequestURI());
            }
        });
        plain.addServletMappingDecoded("/*", "plain");
    }

    public PorticoValve valve() {
        return valve;
    }

    public Path apps() {
        return apps;
    }

    public int port() {
        return embedded.port();
    }

    public URI uri(String path) {
        return http.uri(path);
    }

    public HttpClient client() {
        return http.client();
    }

    /** The client behind {@link #get} and {@link #send} (60 s a request). */
    public HttpTestClient http() {
        return http;
    }

    /** A raw HTTP/1.1 connection to the front connector. */
    public RawConnection connect(Duration readTimeout) {
        return RawHttp.connect(port(), readTimeout);
    }

    /** Writes an app directory with a portico.xml that runs the Node test backend. */
    public Path nodeApp(String name, String attributes, Map<String, String> environment) {
        StringBuilder xml = new StringBuilder("<portico processPath=\"node\" arguments=\"")
                .append(NODE_BACKEND).append("\" ").append(attributes).append(">\n  <environmentVariables>\n");
        environment.forEach((key, value) -> xml.append("    <environmentVariable name=\"").append(key)
                .append("\" value=\"").append(value).append("\"/>\n"));
        xml.append("  </environmentVariables>\n</portico>\n");
        return writeApp(name, xml.toString());
    }

    /** Writes {@code apps/<name>/portico.xml} (in one step) and waits until the valve hosts the app. */
    public Path writeApp(String name, String porticoXml) {
        Path dir = apps.resolve(name);
        TestFiles.writeAtomically(dir.resolve("portico.xml"), porticoXml);
        awaitHosted(name);
        return dir;
    }

    /**
     * Deploys a copy of an exploded WAR as {@code apps/<name>}, with {@code porticoXml} (when not
     * null) as its {@code WEB-INF/portico.xml}, and waits until the valve hosts it. The copy is
     * assembled under a dot name (the catalog ignores those) and moved into place in one step, so
     * the app is never seen half copied, nor as a WAR without portico.xml (in-process).
     */
    public Path deployWar(Path explodedWar, String name, String porticoXml) {
        Path staging = apps.resolve("." + name + ".staging");
        TestFiles.copyTree(explodedWar, staging);
        Path app = apps.resolve(name);
        try {
            if (porticoXml != null) {
                Files.writeString(staging.resolve("WEB-INF/portico.xml"), porticoXml);
            }
            Files.move(staging, app, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        awaitHosted(name);
        return app;
    }

    /** Deploys a copy of the sample WAR ({@link #deployWar}); fails when it was not unpacked. */
    public Path deploySample(String name, String porticoXml) {
        if (!Files.isDirectory(SAMPLE_WAR.resolve("WEB-INF"))) {
            throw new AssertionError("the exploded sample WAR is at " + SAMPLE_WAR
                    + " (mvn process-test-resources unpacks it)");
        }
        return deployWar(SAMPLE_WAR, name, porticoXml);
    }

    /** Waits until the valve hosts the app {@code apps/<name>}. */
    public void awaitHosted(String name) {
        String contextPath = name.equals("ROOT") ? "/" : "/" + name;
        Poll.until(HOSTED, "app " + name + " hosted", () -> valve.getHostedApps().containsKey(contextPath));
    }

    /**
     * The answer of the app {@code apps/<name>} whose portico.xml is invalid: a 500.19 page, checked
     * to name each of {@code mentions} (the file, the attribute, the value...).
     */
    public HttpResponse<String> assertConfigurationError(String name, String... mentions) {
        awaitHosted(name);
        HttpResponse<String> page = get("/" + name + "/");
        assertEquals(500, page.statusCode(), page.body());
        assertTrue(page.body().contains("500.19"), page.body());
        for (String mention : mentions) {
            assertTrue(page.body().contains(mention), "the page names " + mention + ": " + page.body());
        }
        return page;
    }

    /** The status page's JSON ({@link #withStatusPage()}). */
    public String status() {
        return get(STATUS_PATH).body();
    }

    /** Waits until the status page counts no request in flight on any process: every exchange has ended. */
    public void awaitNothingInFlight(Duration limit, String what) {
        Poll.until(limit, what, this::status,
                status -> Json.fields(status, "inFlight").stream().allMatch("0"::equals));
    }

    /** GET, with headers given as name, value, name, value... */
    public HttpResponse<String> get(String path, String... headers) {
        return http.get(path, headers);
    }

    public HttpResponse<String> send(HttpRequest request) {
        return http.send(request);
    }

    /** Opens a WebSocket to {@code path}, sends {@code text}, and returns the first text message back; then closes it. */
    public String webSocketRoundTrip(String path, String text) throws Exception {
        return TextWebSocket.roundTrip(client(), URI.create("ws://127.0.0.1:" + port() + path), text,
                Duration.ofSeconds(20), Duration.ofSeconds(10));
    }

    /**
     * A raw connection that asked {@code path} to switch to the protocol {@code echo} (the Node
     * backend's {@code /raw-echo} answers 101 and sends back every byte after it); the answer is
     * left for the caller to read.
     */
    public RawConnection upgradeToEcho(String path, Duration readTimeout, String... extraHeaders) throws IOException {
        String[] headers = new String[extraHeaders.length + 2];
        headers[0] = "Connection: Upgrade";
        headers[1] = "Upgrade: echo";
        System.arraycopy(extraHeaders, 0, headers, 2, extraHeaders.length);
        RawConnection connection = connect(readTimeout);
        connection.send(RawHttp.head("GET", path, headers));
        return connection;
    }

    /**
     * Upgrades a raw connection to {@code path} ({@link #upgradeToEcho}), then writes {@code payload}
     * while reading it back, as a client of an echoing protocol does; fails unless the answer is
     * {@code HTTP/1.1 101} and every byte came back in order. Returns the 101's head.
     */
    /**
     * Burst after burst on one tunnel, each waiting for its whole echo before the next: the last
     * bytes of a burst can sit in Tomcat's own buffer while the queue to the backend is full, and
     * no read event comes for them (the client sends nothing more until it has the echo). Before
     * they were always taken, such a tunnel stalled for good (about once in ten 8 MiB echoes).
     */
    public void assertBurstsEchoedThroughUpgrade(String path, int bursts) throws Exception {
        try (RawConnection connection = upgradeToEcho(path, Duration.ofSeconds(10))) {
            assertTrue(connection.readHead().statusLine().startsWith("HTTP/1.1 101"));
            for (int burst = 0; burst < bursts; burst++) {
                byte[] payload = TestBodies.random(1024 * 1024 + burst * 4099, burst);
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try {
                        connection.send(payload);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                assertArrayEquals(payload, connection.readBytes(payload.length), "the echo of burst " + burst);
                writer.get(10, TimeUnit.SECONDS);
            }
        }
    }

    public RawResponseHead assertEchoedThroughUpgrade(String path, byte[] payload, Duration limit, String... extraHeaders)
            throws Exception {
        try (RawConnection connection = upgradeToEcho(path, limit, extraHeaders)) {
            RawResponseHead head = connection.readHead();
            assertTrue(head.statusLine().startsWith("HTTP/1.1 101"), head.toString());
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    connection.send(payload);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            assertArrayEquals(payload, connection.readBytes(payload.length), "the echo of " + payload.length + " bytes");
            writer.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            return head;
        }
    }

    /** Stops Tomcat, leaving its base directory (and what the apps wrote there) for the test to look at. */
    public void stop() throws LifecycleException {
        embedded.stop();
    }

    /** Stops Tomcat if it runs and deletes its base directory; again is harmless. */
    @Override
    public void close() throws LifecycleException {
        if (embedded != null) {
            embedded.close();
        }
    }
}
