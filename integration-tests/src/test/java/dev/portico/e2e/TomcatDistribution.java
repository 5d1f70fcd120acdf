package dev.portico.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.portico.testsupport.FreePort;
import dev.portico.testsupport.HttpTestClient;
import dev.portico.testsupport.Poll;
import dev.portico.testsupport.TestFiles;

/**
 * A real Apache Tomcat (the unpacked distribution as CATALINA_HOME) running {@code bin/catalina.sh
 * run} as a child process on a fresh CATALINA_BASE under {@code target/e2e/<name>-<n>}, with the
 * Portico plugin jar in {@code CATALINA_BASE/lib} and the valve on the Host.
 *
 * <p>{@link #close()} stops Tomcat, kills every process that still belongs to it and fails if
 * there was one, so no test leaves a process behind, whatever its outcome.
 */
public final class TomcatDistribution implements AutoCloseable {

    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final int LOG_TAIL_LINES = 80;
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final Path catalinaHome;
    private final Path catalinaBase;
    private final Path pluginJar;
    private final boolean withPortico;
    private final Map<String, String> valveAttributes;
    private final boolean withUserRealm;
    private final boolean http2;
    private final ServerXml.Tls tls;
    private final boolean withManager;
    private final ServerXml.Extras serverXmlExtras;
    private final ProcessTracker processes;
    private final Thread cleanupOnJvmExit;
    private int httpPort;
    private Process tomcat;
    private HttpTestClient http;

    private TomcatDistribution(Builder builder) {
        this.catalinaHome = E2eSettings.tomcatHome();
        this.pluginJar = builder.withPortico ? E2eSettings.pluginJar() : null;
        this.withPortico = builder.withPortico;
        this.valveAttributes = new LinkedHashMap<>(builder.valveAttributes);
        this.withUserRealm = builder.withUserRealm || builder.withManager;
        this.http2 = builder.http2;
        this.tls = builder.tlsKeystore == null ? null
                : new ServerXml.Tls(FreePort.pick(), builder.tlsKeystore, builder.tlsPassword);
        this.withManager = builder.withManager;
        this.serverXmlExtras = new ServerXml.Extras(builder.connectors.toString(), builder.engine.toString(),
                builder.host.toString());
        this.catalinaBase = newCatalinaBase(builder.name);
        this.processes = new ProcessTracker(catalinaBase);
        this.cleanupOnJvmExit = new Thread(this::killEverything, "cleanup " + catalinaBase.getFileName());
        Runtime.getRuntime().addShutdownHook(cleanupOnJvmExit);
        this.httpPort = FreePort.pick();
    }

    public static Builder named(String name) {
        return new Builder(name);
    }

    // ---------------------------------------------------------------------------------------------
    // Life cycle

    /** Starts Tomcat and waits until its HTTP port answers; fails with the log tail otherwise. */
    public TomcatDistribution start() {
        if (isRunning()) {
            throw new IllegalStateException("Tomcat is already running on " + catalinaBase);
        }
        if (!FreePort.isFree(httpPort)) {
            httpPort = FreePort.pick();
        }
        TestFiles.writeAtomically(catalinaBase.resolve("conf/server.xml"),
                ServerXml.render(httpPort, withPortico, valveAttributes, withUserRealm, http2, tls, serverXmlExtras));
        tomcat = launchCatalinaRun();
        processes.follow(tomcat.toHandle());
        TestFiles.writeAtomically(catalinaBase.resolve("tomcat.pid"), Long.toString(tomcat.pid()));
        awaitHttpPort();
        http = new HttpTestClient(baseUri());
        return this;
    }

    /** Graceful stop: SIGTERM to the Tomcat JVM (its shutdown hook stops the server), then wait. */
    public void stop() {
        end(false);
    }

    /** SIGKILL to the Tomcat JVM only: its children are left running (orphan-cleanup tests). */
    public void kill() {
        end(true);
    }

    private void end(boolean kill) {
        if (tomcat == null) {
            return;
        }
        processes.sample();
        try {
            if (kill) {
                tomcat.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            } else {
                tomcat.destroy();
                if (!tomcat.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    tomcat.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    throw new AssertionError("Tomcat did not stop within " + STOP_TIMEOUT.toSeconds()
                            + " s; killed it. Log tail:\n" + logTail());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            tomcat.destroyForcibly();
        } finally {
            tomcat = null;
        }
    }

    /** Stops Tomcat if it runs and starts it again on the same CATALINA_BASE (same port if free). */
    public TomcatDistribution restart() {
        stop();
        return start();
    }

    public boolean isRunning() {
        return tomcat != null && tomcat.isAlive();
    }

    /** The pid of the Tomcat JVM ({@code catalina.sh run} execs java). */
    public long tomcatPid() {
        requireRunning();
        return tomcat.pid();
    }

    // ---------------------------------------------------------------------------------------------
    // Apps and addresses

    public URI baseUri() {
        return URI.create("http://127.0.0.1:" + httpPort);
    }

    public int httpPort() {
        return httpPort;
    }

    /** An HTTP/1.1 client for this Tomcat (a fresh one after every start). */
    /** The port of the TLS connector ({@link Builder#tls}). */
    public int httpsPort() {
        if (tls == null) {
            throw new IllegalStateException("this Tomcat has no TLS connector");
        }
        return tls.port();
    }

    public HttpTestClient http() {
        requireRunning();
        return http;
    }

    public Path catalinaBase() {
        return catalinaBase;
    }

    /** The valve's appBase, {@code CATALINA_BASE/apps}. */
    public Path appsDir() {
        return catalinaBase.resolve("apps");
    }

    public Path appDir(String name) {
        return appsDir().resolve(name);
    }

    /**
     * Writes (or overwrites) files of the app {@code apps/<name>}; each file is replaced atomically,
     * so the plugin never sees half a file.
     */
    public Path writeApp(String name, AppFile... files) {
        Path app = appDir(name);
        for (AppFile file : files) {
            TestFiles.writeAtomically(app.resolve(file.path()), file.content());
        }
        return app;
    }

    /**
     * Installs a copy of a directory (an exploded WAR, say) as the app {@code apps/<name>}, with
     * {@code files} (its {@code WEB-INF/portico.xml}, say) written over the copy. The copy is
     * assembled under a dot name, which the plugin ignores, and moved into place in one step, so
     * a running Tomcat never sees it half copied.
     */
    public Path installApp(String name, Path source, AppFile... files) {
        Path app = appDir(name);
        Path staging = appsDir().resolve("." + name + ".staging");
        copyWithFiles(source, staging, files);
        try {
            Files.move(staging, app, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot install " + source + " as " + app, e);
        }
        return app;
    }

    /**
     * Installs a copy of a directory (an exploded WAR) as the Host's own webapp {@code webapps/<name>}
     * (Tomcat deploys it at start), with {@code files} written over the copy: the same WAR as a
     * Portico app, to compare.
     */
    public Path installWebapp(String name, Path source, AppFile... files) {
        Path webapp = catalinaBase.resolve("webapps").resolve(name);
        copyWithFiles(source, webapp, files);
        return webapp;
    }

    private static void copyWithFiles(Path source, Path target, AppFile... files) {
        TestFiles.copyTree(source, target);
        for (AppFile file : files) {
            TestFiles.writeAtomically(target.resolve(file.path()), file.content());
        }
    }

    public void deleteAppFile(String name, String path) {
        try {
            Files.deleteIfExists(appDir(name).resolve(path));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Logs

    /** What Tomcat wrote: the captured console output and {@code logs/catalina.*.log}. */
    public String log() {
        StringBuilder text = new StringBuilder(read(consoleLog()));
        try (Stream<Path> logs = Files.list(catalinaBase.resolve("logs"))) {
            for (Path file : logs.filter(p -> p.getFileName().toString().startsWith("catalina."))
                    .sorted().toList()) {
                text.append("\n--- ").append(file.getFileName()).append(" ---\n").append(read(file));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }

    /** The last lines of the console output, for failure messages. */
    public String logTail() {
        List<String> lines = read(consoleLog()).lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
    }

    public Path consoleLog() {
        return catalinaBase.resolve("logs/console.log");
    }

    /**
     * Fails if Tomcat's console log (where every logger of the distribution's logging.properties
     * writes) holds a SEVERE record, a stack trace or a "failed to stop it" warning that none of
     * {@code provokedRegexes} (records the test provoked on purpose) matches. Call it after
     * {@link #stop()} or {@link #close()}, so the records of the stop are checked too.
     */
    public void assertCleanLog(String... provokedRegexes) {
        CatalinaLog.assertClean(consoleLog().toString(), read(consoleLog()), provokedRegexes);
    }

    /**
     * What a test class's {@code @AfterAll} does with its Tomcat: {@link #close()} (which fails on a
     * process left behind), then {@link #assertCleanLog}; nothing if the Tomcat was never made.
     */
    public static void closeAndAssertCleanLog(TomcatDistribution tomcat, String... provokedRegexes) {
        if (tomcat != null) {
            tomcat.close();
            tomcat.assertCleanLog(provokedRegexes);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Process hygiene

    /**
     * Fails, naming them, if any process that belongs to this Tomcat (besides a running Tomcat JVM)
     * is alive; such processes are killed first so nothing outlives the test.
     */
    public void assertNoLeftoverProcesses() {
        List<ProcessHandle> leftovers = new ArrayList<>(processes.alive());
        if (isRunning()) {
            leftovers.removeIf(handle -> handle.pid() == tomcat.pid());
            leftovers.removeIf(handle -> isDescendantOfTomcat(handle));
        }
        if (leftovers.isEmpty()) {
            return;
        }
        String described = leftovers.stream().map(processes::describe).collect(Collectors.joining("\n  "));
        ProcessTracker.killAll(leftovers);
        throw new AssertionError("processes outlived Tomcat (" + catalinaBase + "), killed now:\n  " + described);
    }

    /** Stops Tomcat, kills anything left and fails if something was left (or Tomcat would not stop). */
    @Override
    public void close() {
        AssertionError failure = null;
        try {
            stop();
        } catch (AssertionError e) {
            failure = e;
            killEverything();
        }
        try {
            assertNoLeftoverProcesses();
        } catch (AssertionError e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        } finally {
            processes.close();
            removeShutdownHook();
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "Tomcat " + catalinaBase.getFileName() + " on " + baseUri();
    }

    // ---------------------------------------------------------------------------------------------
    // Internals

    private Path newCatalinaBase(String name) {
        Path base;
        do {
            base = E2eSettings.workDir().resolve(name + "-" + INSTANCES.incrementAndGet());
        } while (Files.exists(base));
        try {
            for (String dir : List.of("conf", "logs", "temp", "work", "apps", "lib", "webapps/ROOT")) {
                Files.createDirectories(base.resolve(dir));
            }
            TestFiles.copyTree(catalinaHome.resolve("conf"), base.resolve("conf"));
            if (pluginJar != null) {
                Files.copy(pluginJar, base.resolve("lib").resolve(pluginJar.getFileName()),
                        StandardCopyOption.REPLACE_EXISTING);
            }
            if (withUserRealm) {
                TestFiles.writeAtomically(base.resolve("conf/tomcat-users.xml"), ServerXml.testUsers());
            }
            if (withManager) {
                TestFiles.writeAtomically(base.resolve("conf/Catalina/localhost/manager.xml"), ServerXml.managerContext(catalinaHome));
            }
            TestFiles.writeAtomically(base.resolve("webapps/ROOT/index.html"),
                    "<html><body><h1>plain tomcat root</h1></body></html>\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare CATALINA_BASE " + base, e);
        }
        return base;
    }

    private Process launchCatalinaRun() {
        ProcessBuilder builder = new ProcessBuilder("/bin/sh", catalinaHome.resolve("bin/catalina.sh").toString(), "run")
                .directory(catalinaBase.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(consoleLog().toFile()));
        Map<String, String> env = builder.environment();
        for (String inherited : List.of("JRE_HOME", "JAVA_OPTS", "CATALINA_OPTS", "CATALINA_TMPDIR",
                "CATALINA_OUT", "JPDA_OPTS", "LOGGING_CONFIG", "LOGGING_MANAGER")) {
            env.remove(inherited);
        }
        env.put("CATALINA_HOME", catalinaHome.toString());
        env.put("CATALINA_BASE", catalinaBase.toString());
        env.put("CATALINA_PID", catalinaBase.resolve("tomcat.pid").toString());
        env.put("JAVA_HOME", Path.of(System.getProperty("java.home")).toString());
        env.put("CATALINA_OPTS", "-Xms64m -Xmx384m -XX:+UseSerialGC"
                + " -Djava.security.egd=file:/dev/./urandom");
        try {
            return builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run catalina.sh", e);
        }
    }

    private void awaitHttpPort() {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        while (!FreePort.accepts(httpPort) || (tls != null && !FreePort.accepts(tls.port()))) {
            if (!tomcat.isAlive()) {
                int exit = tomcat.exitValue();
                tomcat = null;
                throw new AssertionError("Tomcat exited (status " + exit + ") before its HTTP port "
                        + httpPort + " answered. Log tail:\n" + logTail());
            }
            if (System.nanoTime() - deadline > 0) {
                String tail = logTail();
                killEverything();
                throw new AssertionError("Tomcat's HTTP port " + httpPort + " did not answer within "
                        + STARTUP_TIMEOUT.toSeconds() + " s. Log tail:\n" + tail);
            }
            Poll.sleep(Duration.ofMillis(100));
        }
    }

    private boolean isDescendantOfTomcat(ProcessHandle handle) {
        return tomcat.toHandle().descendants().anyMatch(d -> d.pid() == handle.pid());
    }

    private void killEverything() {
        if (tomcat != null) {
            tomcat.destroyForcibly();
        }
        ProcessTracker.killAll(processes.alive());
    }

    private void requireRunning() {
        if (!isRunning()) {
            throw new IllegalStateException("Tomcat is not running on " + catalinaBase);
        }
    }

    private void removeShutdownHook() {
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupOnJvmExit);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: the hook runs anyway
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            try {
                return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
            } catch (IOException again) {
                throw new UncheckedIOException(again);
            }
        }
    }

    /** Configuration of a test Tomcat. */
    public static final class Builder {

        private final String name;
        private boolean withPortico = true;
        private final Map<String, String> valveAttributes = new LinkedHashMap<>();
        private boolean withUserRealm;
        private boolean http2;
        private Path tlsKeystore;
        private String tlsPassword;
        private boolean withManager;
        private final StringBuilder connectors = new StringBuilder();
        private final StringBuilder engine = new StringBuilder();
        private final StringBuilder host = new StringBuilder();

        private Builder(String name) {
            this.name = name;
            valveAttributes.put("appBase", "apps");
        }

        /** An extra attribute on the Portico valve element. */
        public Builder valveAttribute(String name, String value) {
            valveAttributes.put(name, value);
            return this;
        }

        /** A UserDatabaseRealm on the Host with user alice/secret in role "user". */
        public Builder withUserRealm() {
            this.withUserRealm = true;
            return this;
        }

        /** Tomcat's Http2Protocol on the connectors: h2c on the HTTP one, h2 on the TLS one. */
        public Builder http2() {
            this.http2 = true;
            return this;
        }

        /** A TLS connector on 127.0.0.1 ({@link TomcatDistribution#httpsPort()}) with this PKCS12 keystore. */
        public Builder tls(Path keystore, String password) {
            this.tlsKeystore = keystore;
            this.tlsPassword = password;
            return this;
        }

        /**
         * The distribution's Manager webapp at {@code /manager} (loopback clients only, as it ships)
         * and the user realm, in which {@code ops/ops-secret} has the role {@code manager-jmx}.
         */
        public Builder withManager() {
            this.withManager = true;
            return this;
        }

        /** Another {@code <Connector>} element (XML) in the Service, after the HTTP one. */
        public Builder connector(String xml) {
            connectors.append(xml).append('\n');
            return this;
        }

        /** An element (XML) inside the Engine, before the Host: a Cluster, say. */
        public Builder inEngine(String xml) {
            engine.append(xml).append('\n');
            return this;
        }

        /** An element (XML) inside the Host, before the Portico valve: a SingleSignOn valve, say. */
        public Builder inHost(String xml) {
            host.append(xml).append('\n');
            return this;
        }

        /** Plain Tomcat: no plugin jar, no valve (to check the harness itself). */
        public Builder withoutPortico() {
            this.withPortico = false;
            return this;
        }

        /** Prepares the CATALINA_BASE without starting Tomcat. */
        public TomcatDistribution create() {
            return new TomcatDistribution(this);
        }

        /** Prepares the CATALINA_BASE and starts Tomcat; closes everything if the start fails. */
        public TomcatDistribution start() {
            TomcatDistribution tomcat = create();
            try {
                return tomcat.start();
            } catch (RuntimeException | Error e) {
                try {
                    tomcat.close();
                } catch (RuntimeException | Error suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }
}
