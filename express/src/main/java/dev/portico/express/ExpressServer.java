package dev.portico.express;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

import dev.portico.PorticoValve;
import dev.portico.hosting.AppStatus;
import dev.portico.integration.runner.DirectoryTree;

/**
 * An embedded Tomcat on 127.0.0.1 with the Portico valve on its Host and a temporary
 * CATALINA_BASE whose {@code apps/} holds the hosted apps. {@link #close()} stops Tomcat (the
 * valve stops every app process) and deletes the base; it runs once, whoever calls first.
 */
final class ExpressServer implements AutoCloseable {

    static final String SAMPLE_RESOURCE = "/dev/portico/express/portico-sample.war";
    static final String IN_PROCESS_SAMPLE = "inproc";
    static final String OUT_OF_PROCESS_SAMPLE = "outproc";

    private static final String OUT_OF_PROCESS_XML = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- written by Portico Express: the bundled sample, hosted in a child JVM -->
            <portico hostingModel="outOfProcess">
              <environmentVariables>
                <environmentVariable name="PORTICO_SAMPLE_ALLOW_CRASH" value="true"/>
              </environmentVariables>
            </portico>
            """;

    private final Path base;
    private final Path apps;
    private final Tomcat tomcat = new Tomcat();
    private final PorticoValve valve = new PorticoValve();
    private Connector connector;
    private boolean rootApp;
    private boolean closed;

    private ExpressServer(Path base) {
        this.base = base;
        this.apps = base.resolve("apps");
    }

    /** Creates the base and lays out the apps; nothing listens yet. */
    static ExpressServer prepare(CommandLine commandLine) throws IOException {
        Path base = Files.createTempDirectory("portico-express-");
        ExpressServer server = new ExpressServer(base);
        if (commandLine.hooks() != null) {
            server.valve.setHooksPath(commandLine.hooks().toString());
        }
        try {
            Files.createDirectories(server.apps);
            Files.createDirectories(base.resolve("webapps"));
            if (commandLine.apps().isEmpty()) {
                server.unpackSample(IN_PROCESS_SAMPLE, null);
                server.unpackSample(OUT_OF_PROCESS_SAMPLE, OUT_OF_PROCESS_XML);
            } else {
                for (CommandLine.App app : commandLine.apps()) {
                    server.place(app);
                    server.rootApp |= app.contextPath().isEmpty();
                }
            }
            return server;
        } catch (IOException | RuntimeException e) {
            server.deleteBase();
            throw e;
        }
    }

    Path base() {
        return base;
    }

    /** Starts Tomcat on 127.0.0.1:port; the valve scans apps/ before this returns. */
    void start(int port) throws LifecycleException {
        tomcat.setBaseDir(base.toString());
        connector = new Connector("HTTP/1.1");
        connector.setPort(port);
        connector.setProperty("address", "127.0.0.1");
        // a port in use must stop the start, not leave a Tomcat that listens nowhere
        connector.setThrowOnFailure(true);
        tomcat.setConnector(connector);
        tomcat.getHost().setAppBase(base.resolve("webapps").toString());
        tomcat.getHost().setAutoDeploy(false);
        valve.setAppBase(apps.toString());
        if (!rootApp) {
            // "/" is the valve's status page: each app with a link to it, its state and figures
            // (HTML to a browser, JSON to a script, Prometheus text to a scraper; loopback only, as Express is)
            valve.setStatusPath("/");
        }
        tomcat.getHost().getPipeline().addValve(valve);
        tomcat.start();
        if (connector.getState() != LifecycleState.STARTED || connector.getLocalPort() <= 0) {
            throw new LifecycleException("the HTTP connector on 127.0.0.1:" + port + " did not start");
        }
    }

    int port() {
        return connector.getLocalPort();
    }

    String url(String path) {
        return "http://127.0.0.1:" + port() + (path.equals("/") ? "" : path) + "/";
    }

    /** Context path ("/" for ROOT) → the valve's one-line description of the app. */
    Map<String, String> hostedApps() {
        return valve.getHostedApps();
    }

    /** The same apps, typed: whether each waits for its first request. */
    Map<String, AppStatus> appStatuses() {
        return valve.appStatuses();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (tomcat.getServer().getState().isAvailable()) {
                tomcat.stop();
            }
            tomcat.destroy();
        } catch (LifecycleException | RuntimeException e) {
            System.err.println("Portico Express: error while stopping Tomcat: " + e);
        } finally {
            deleteBase();
        }
    }

    // ---------------------------------------------------------------- apps/

    /** Links the app into apps/ under its own name (a copy where links are not possible). */
    private void place(CommandLine.App app) throws IOException {
        Path target = apps.resolve(app.entryName());
        try {
            Files.createSymbolicLink(target, app.source());
        } catch (UnsupportedOperationException | FileSystemException e) {
            copyTree(app.source(), target);
        }
    }

    private void unpackSample(String name, String porticoXml) throws IOException {
        Path dir = apps.resolve(name);
        try (InputStream war = ExpressServer.class.getResourceAsStream(SAMPLE_RESOURCE)) {
            if (war == null) {
                throw new IOException("the bundled sample WAR " + SAMPLE_RESOURCE
                        + " is not in this build; run the jar built by Maven (target/portico-express.jar)");
            }
            unzip(war, dir);
        }
        if (porticoXml != null) {
            Files.writeString(dir.resolve("WEB-INF").resolve("portico.xml"), porticoXml, StandardCharsets.UTF_8);
        }
    }

    private static void unzip(InputStream in, Path dir) throws IOException {
        Files.createDirectories(dir);
        try (ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry entry; (entry = zip.getNextEntry()) != null;) {
                Path target = dir.resolve(entry.getName()).normalize();
                if (!target.startsWith(dir)) {
                    throw new IOException("unsafe entry in the bundled WAR: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(zip, target);
                }
            }
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        if (Files.isRegularFile(from)) {
            Files.copy(from, to);
            return;
        }
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path source : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target);
                }
            }
        }
    }

    /** Deletes the base; links in apps/ are removed, never followed into the user's files. */
    private void deleteBase() {
        List<Path> failed = DirectoryTree.delete(base);
        if (!failed.isEmpty()) {
            System.err.println("Portico Express: could not delete " + failed.get(0)
                    + (failed.size() > 1 ? " and " + (failed.size() - 1) + " more" : ""));
        }
    }
}
