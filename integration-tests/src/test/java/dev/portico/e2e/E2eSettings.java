package dev.portico.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;

/**
 * Paths handed to the tests by the failsafe plugin (see pom.xml), checked once with messages that
 * say what to build when something is missing.
 */
public final class E2eSettings {

    static final String VALVE_CLASS = "dev.portico.PorticoValve";

    private E2eSettings() {
    }

    /** The unpacked Tomcat distribution, used as CATALINA_HOME. */
    public static Path tomcatHome() {
        Path home = pathProperty("portico.e2e.tomcatHome");
        require(Files.isRegularFile(home.resolve("bin/catalina.sh")),
                "no Tomcat distribution at " + home + " (run the build through Maven: the "
                        + "dependency plugin unpacks org.apache.tomcat:tomcat:tar.gz there)");
        return home;
    }

    /** The Portico plugin jar; fails clearly when it has not been built or lacks the valve. */
    public static Path pluginJar() {
        Path jar = pathProperty("portico.e2e.pluginJar");
        require(Files.isRegularFile(jar), "Portico plugin jar not found at " + jar
                + ": build it first (mvn -B install -DskipTests -pl plugin -am)");
        require(containsClass(jar, VALVE_CLASS), "the plugin jar " + jar + " does not contain "
                + VALVE_CLASS + ": the plugin is not built yet (or is an empty stub)");
        return jar;
    }

    /** The Node.js test backend (integration-tests/backends/node/server.js). */
    public static Path nodeBackend() {
        Path script = pathProperty("portico.e2e.nodeBackend");
        require(Files.isRegularFile(script), "Node test backend not found at " + script);
        require(nodeIsOnPath(), "`node` (Node.js 20+) must be on PATH for the end-to-end tests");
        return script;
    }

    /** The exploded sample WAR (dev.portico:portico-sample:war, unpacked by the dependency plugin). */
    public static Path sampleWar() {
        Path war = pathProperty("portico.e2e.sampleWar");
        require(Files.isRegularFile(war.resolve("WEB-INF/web.xml")), "no exploded sample WAR at " + war
                + ": build it first (mvn -B install -DskipTests) and run through Maven, which unpacks it there");
        return war;
    }

    /** The worked example hook of docs/hooks.md (dev.portico:portico-crash-log-hook, built by Maven). */
    public static Path exampleHook() {
        Path jar = pathProperty("portico.e2e.exampleHook");
        require(Files.isRegularFile(jar), "example hook jar not found at " + jar + ": build it first (mvn -B install -DskipTests)");
        return jar;
    }

    /** The framework apps of docs/frameworks.md (integration-tests/frameworks). */
    public static Path frameworksDir() {
        return pathProperty("portico.e2e.frameworksDir");
    }

    /** The Spring Boot app's executable jar (module integration-tests/frameworks/spring-boot). */
    public static Path springBootJar() {
        Path jar = pathProperty("portico.e2e.springBootJar");
        require(Files.isRegularFile(jar), "no Spring Boot app jar at " + jar + ": build it first (mvn -B install -DskipTests)");
        return jar;
    }

    /**
     * What a test needs from the machine (a Debian package, npm modules): without it the test is
     * skipped with {@code message} on a developer's machine, and fails in CI ({@code CI=true}),
     * whose .ci/run installs it.
     */
    public static void assumeInstalled(boolean installed, String message) {
        if (installed) {
            return;
        }
        if ("true".equals(System.getenv("CI"))) {
            throw new IllegalStateException(message + " (CI must have it: see .ci/run)");
        }
        org.junit.jupiter.api.Assumptions.abort(message + ": skipped here, CI runs it");
    }

    /** True when {@code command} runs and exits 0 within 30 s. */
    public static boolean runs(String... command) {
        return runsWithin(Duration.ofSeconds(30), command);
    }

    private static boolean runsWithin(Duration limit, String... command) {
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                return false;
            }
            return process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Where each test Tomcat gets its CATALINA_BASE. */
    public static Path workDir() {
        return pathProperty("portico.e2e.workDir");
    }

    private static Path pathProperty(String name) {
        String value = System.getProperty(name);
        require(value != null && !value.isBlank(), "system property " + name
                + " is not set: run the end-to-end tests through Maven (mvn verify -pl integration-tests)");
        return Path.of(value).toAbsolutePath().normalize();
    }

    private static boolean containsClass(Path jar, String className) {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.getEntry(className.replace('.', '/') + ".class") != null;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean nodeIsOnPath() {
        return runsWithin(Duration.ofSeconds(10), "node", "--version");
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalStateException(message);
        }
    }
}
