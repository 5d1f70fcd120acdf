package dev.portico.integration.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.portico.integration.testapp.RequestInfoServlet;
import dev.portico.integration.testapp.ShutdownRecorder;
import dev.portico.testsupport.FreePort;
import dev.portico.testsupport.HttpTestClient;
import dev.portico.testsupport.Poll;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.apache.catalina.startup.Tomcat;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.jboss.shrinkwrap.api.exporter.ZipExporter;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAR runner as Portico starts it: a child JVM with the PORTICO_* environment and a classpath
 * of exactly the jars it needs, serving a .war over loopback.
 */
class WarRunnerProcessTest {

    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(15);

    private final List<Process> processes = new ArrayList<>();
    private final String token = UUID.randomUUID().toString();

    @TempDir
    Path temp;
    private Path war;

    @BeforeEach
    void buildWar() {
        war = temp.resolve("shop.war");
        ShrinkWrap.create(WebArchive.class, "shop.war")
                .addClasses(RequestInfoServlet.class, ShutdownRecorder.class)
                .add(new StringAsset("<%@ page contentType=\"text/plain\" %>Hello from JSP at "
                        + "<%= request.getContextPath() %>"), "hello.jsp")
                .as(ZipExporter.class).exportTo(war.toFile());
    }

    @AfterEach
    void killLeftovers() throws InterruptedException {
        for (Process process : processes) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void enforcesTokenAppliesForwardedHeadersServesJspAndStopsOnShutdownRequest() throws Exception {
        int port = FreePort.pick();
        Process runner = startRunner(runnerEnvironment(port, ProcessHandle.current().pid()), true);
        awaitListening(port, runner);
        HttpTestClient shop = shop(port);

        assertEquals(400, shop.get("info", "X-Portico-Principal", "mallory").statusCode());

        HttpResponse<String> info = shop.get("info",
                "X-Portico-Token", token,
                "X-Forwarded-Proto", "https",
                "X-Forwarded-For", "198.51.100.4",
                "X-Forwarded-Host", "www.example.org",
                "X-Forwarded-Port", "443",
                "X-Portico-Principal", "bob");
        assertEquals(200, info.statusCode(), info.body());
        assertTrue(info.body().contains("requestURL=https://www.example.org/shop/info"), info.body());
        assertTrue(info.body().contains("remoteAddr=198.51.100.4"), info.body());
        assertTrue(info.body().contains("remoteUser=bob"), info.body());

        HttpResponse<String> jsp = shop.get("hello.jsp", "X-Portico-Token", token);
        assertEquals(200, jsp.statusCode(), jsp.body());
        assertEquals("Hello from JSP at /shop", jsp.body().strip());

        HttpResponse<String> shutdown = shop.send(shop.request(".portico/shutdown")
                .header("X-Portico-Token", token).header("X-Portico-Event", "shutdown")
                .POST(HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(202, shutdown.statusCode());
        assertExits(runner, 0);
    }

    @Test
    void exitsWhenParentIsGoneAndAnswersJspWith501WithoutJasper() throws Exception {
        Process parent = track(new ProcessBuilder("sleep", "60").start());
        int port = FreePort.pick();
        Process runner = startRunner(runnerEnvironment(port, parent.pid()), false);
        awaitListening(port, runner);

        HttpResponse<String> jsp = shop(port).get("hello.jsp", "X-Portico-Token", token);
        assertEquals(501, jsp.statusCode());

        parent.destroy();
        parent.waitFor(5, TimeUnit.SECONDS);
        assertExits(runner, 0);
    }

    @Test
    void failsClearlyOnBadArgumentMissingTokenAndTakenPort() throws Exception {
        Map<String, String> environment = runnerEnvironment(FreePort.pick(), ProcessHandle.current().pid());
        Process noSuchWar = startRunner(environment, false, temp.resolve("missing.war").toString());
        assertExits(noSuchWar, WarRunner.EXIT_USAGE);
        assertTrue(log().contains("no such file or directory"), log());

        environment.remove("PORTICO_TOKEN");
        assertExits(startRunner(environment, false, war.toString()), WarRunner.EXIT_USAGE);
        assertTrue(log().contains("PORTICO_TOKEN is not set"), log());

        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Process runner = startRunner(runnerEnvironment(taken.getLocalPort(),
                    ProcessHandle.current().pid()), false);
            assertExits(runner, WarRunner.EXIT_BIND_FAILED);
        }
    }

    private Map<String, String> runnerEnvironment(int port, long parentPid) {
        Map<String, String> environment = new HashMap<>();
        environment.put("PORTICO_PORT", Integer.toString(port));
        environment.put("PORTICO_TOKEN", token);
        environment.put("PORTICO_PATH_BASE", "/shop");
        environment.put("PORTICO_PARENT_PID", Long.toString(parentPid));
        environment.put("PORTICO_HOSTING_MODEL", "outOfProcess");
        environment.put("PORTICO_WORK_DIR", temp.resolve("work").toString());
        return environment;
    }

    private Process startRunner(Map<String, String> environment, boolean withJasper) throws IOException {
        return startRunner(environment, withJasper, war.toString());
    }

    private Process startRunner(Map<String, String> environment, boolean withJasper, String app)
            throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(java.toString(), "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                "-cp", runnerClasspath(withJasper), WarRunner.class.getName(), app);
        builder.environment().clear();
        builder.environment().putAll(environment);
        builder.redirectErrorStream(true);
        builder.redirectOutput(temp.resolve("runner.log").toFile());
        return track(builder.start());
    }

    /**
     * What the plugin must put on the runner's classpath: tomcat-embed-core (+ its annotations API)
     * and portico-integration; Jasper, EL and ECJ for JSP; websocket for WebSocket apps.
     */
    private static String runnerClasspath(boolean withJasper) {
        Set<String> classes = new LinkedHashSet<>(List.of(
                WarRunner.class.getName(),
                Tomcat.class.getName(),
                "jakarta.annotation.PostConstruct"));
        if (withJasper) {
            classes.addAll(List.of(
                    "org.apache.jasper.servlet.JspServlet",
                    "org.apache.el.ExpressionFactoryImpl",
                    "org.eclipse.jdt.internal.compiler.Compiler",
                    "org.apache.tomcat.websocket.server.WsSci"));
        }
        Set<String> entries = new LinkedHashSet<>();
        for (String name : classes) {
            try {
                Class<?> type = Class.forName(name, false, WarRunnerProcessTest.class.getClassLoader());
                entries.add(Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI())
                        .toString());
            } catch (Exception e) {
                throw new IllegalStateException("cannot locate " + name + " on the test classpath", e);
            }
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    private void awaitListening(int port, Process runner) throws IOException {
        try {
            Poll.until(Duration.ofSeconds(30), "the runner listening on " + port,
                    () -> !runner.isAlive() || FreePort.accepts(port));
        } catch (AssertionError timedOut) {
            fail("runner did not listen on " + port + " in time:\n" + log(), timedOut);
        }
        if (!runner.isAlive()) {
            fail("runner exited with " + runner.exitValue() + " before listening:\n" + log());
        }
    }

    private void assertExits(Process process, int expectedStatus) throws Exception {
        if (!process.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("process did not exit within " + EXIT_TIMEOUT + ":\n" + log());
        }
        assertEquals(expectedStatus, process.exitValue(), log());
    }

    /** A client of the runner's app at /shop/. */
    private static HttpTestClient shop(int port) {
        return new HttpTestClient(URI.create("http://127.0.0.1:" + port + "/shop/"));
    }

    private String log() throws IOException {
        Path log = temp.resolve("runner.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    private Process track(Process process) {
        processes.add(process);
        return process;
    }
}
