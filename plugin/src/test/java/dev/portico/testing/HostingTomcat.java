package dev.portico.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

import dev.portico.PorticoValve;

/**
 * An embedded Tomcat on a free loopback port with the Portico valve on its Host, an apps
 * directory to deploy into, and a plain front webapp at {@code /plain} to prove fall-through.
 */
public final class HostingTomcat implements AutoCloseable {

    public static final Path NODE_BACKEND = Path.of(System.getProperty("portico.nodeBackend",
            "../integration-tests/backends/node/server.js")).toAbsolutePath().normalize();

    private final Path base;
    private final Path apps;
    private final Tomcat tomcat = new Tomcat();
    private final PorticoValve valve = new PorticoValve();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private int port;

    public HostingTomcat(java.util.function.Consumer<PorticoValve> configure) throws Exception {
        this(configure, tomcat -> { });
    }

    /** @param beforeStart adjusts the embedded Tomcat before it starts (e.g. {@code Tomcat::enableNaming}) */
    public HostingTomcat(java.util.function.Consumer<PorticoValve> configure,
            java.util.function.Consumer<Tomcat> beforeStart) throws Exception {
        base = Files.createTempDirectory("portico-test-");
        apps = Files.createDirectories(base.resolve("apps"));
        Files.createDirectories(base.resolve("webapps"));
        tomcat.setBaseDir(base.toString());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);
        tomcat.getHost().setAppBase(base.resolve("webapps").toString());
        Context plain = tomcat.addContext("/plain", null);
        Tomcat.addServlet(plain, "plain", new HttpServlet() {
            @Override
            protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                resp.setContentType("text/plain");
                resp.getWriter().print("plain tomcat " + req.getRequestURI());
            }
        });
        plain.addServletMappingDecoded("/*", "plain");
        tomcat.addUser("alice", "secret");
        tomcat.addRole("alice", "user");
        valve.setAppBase(apps.toString());
        valve.setScanInterval(50);
        configure.accept(valve);
        tomcat.getHost().getPipeline().addValve(valve);
        beforeStart.accept(tomcat);
        tomcat.start();
        port = connector.getLocalPort();
    }

    public PorticoValve valve() {
        return valve;
    }

    public Path apps() {
        return apps;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    public HttpClient client() {
        return client;
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

    public Path writeApp(String name, String porticoXml) {
        try {
            Path dir = Files.createDirectories(apps.resolve(name));
            Files.writeString(dir.resolve("portico.xml.tmp"), porticoXml);
            Files.move(dir.resolve("portico.xml.tmp"), dir.resolve("portico.xml"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            String contextPath = name.equals("ROOT") ? "/" : "/" + name;
            await(() -> valve.getHostedApps().containsKey(contextPath), Duration.ofSeconds(10), "app " + name + " hosted");
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Deploys a copy of an exploded WAR as {@code apps/<name>}, with {@code porticoXml} (when not
     * null) as its {@code WEB-INF/portico.xml}, and waits until the valve hosts it. The copy is
     * assembled under a dot name (the catalog ignores those) and moved into place in one step, so
     * the app is never seen half copied, nor as a WAR without portico.xml (in-process).
     */
    public Path deployWar(Path explodedWar, String name, String porticoXml) {
        try {
            Path staging = apps.resolve("." + name + ".staging");
            copyTree(explodedWar, staging);
            if (porticoXml != null) {
                Files.writeString(staging.resolve("WEB-INF/portico.xml"), porticoXml);
            }
            Path app = apps.resolve(name);
            Files.move(staging, app, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            String contextPath = name.equals("ROOT") ? "/" : "/" + name;
            await(() -> valve.getHostedApps().containsKey(contextPath), Duration.ofSeconds(10), "app " + name + " hosted");
            return app;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies a directory tree (files replaced when they exist). */
    public static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path source : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    public HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60)).build());
    }

    public HttpResponse<String> send(HttpRequest request) {
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Opens a WebSocket to {@code path}, sends {@code text}, and returns the first text message back; then closes it. */
    public String webSocketRoundTrip(String path, String text) throws Exception {
        CompletableFuture<String> reply = new CompletableFuture<>();
        StringBuilder received = new StringBuilder();
        WebSocket socket = client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create("ws://127.0.0.1:" + port + path), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        received.append(data);
                        if (last) {
                            reply.complete(received.toString());
                        }
                        webSocket.request(1);
                        return null;
                    }
                }).get(20, TimeUnit.SECONDS);
        socket.sendText(text, true).get(5, TimeUnit.SECONDS);
        String answer = reply.get(10, TimeUnit.SECONDS);
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
        return answer;
    }

    /** The head of a raw upgrade's answer, and the bytes that came back after it. */
    public record RawEcho(String head, byte[] echoed) {
    }

    /**
     * Upgrades a raw connection to {@code path} with {@code Upgrade: echo} (the Node backend's
     * {@code /raw-echo} sends back every byte after its 101), then writes {@code payload} while
     * reading it back, as a client of an echoing protocol does.
     *
     * @param extraHeaders more header lines, each ending in CRLF, or ""
     */
    public RawEcho rawEcho(String path, String extraHeaders, byte[] payload, Duration limit) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) limit.toMillis());
            java.io.OutputStream out = socket.getOutputStream();
            java.io.InputStream in = socket.getInputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: echo\r\n"
                    + extraHeaders + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                head.write(b);
            }
            String headText = head.toString(StandardCharsets.ISO_8859_1);
            if (!headText.startsWith("HTTP/1.1 101")) {
                return new RawEcho(headText, new byte[0]);
            }
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    out.write(payload);
                    out.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            byte[] echoed = in.readNBytes(payload.length);
            writer.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            return new RawEcho(headText, echoed);
        }
    }

    public static void await(BooleanSupplier condition, Duration limit, String what) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + limit + " waiting for: " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    public void stop() throws LifecycleException {
        tomcat.stop();
        tomcat.destroy();
    }

    @Override
    public void close() throws Exception {
        try {
            if (tomcat.getServer().getState().isAvailable()) {
                stop();
            }
        } finally {
            try (Stream<Path> files = Files.walk(base)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
