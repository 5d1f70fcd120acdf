package dev.portico.hooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.inprocess.testapp.TestApp;
import dev.portico.testing.CapturedLog;
import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;
import dev.portico.testsupport.TestFiles;

/**
 * The lifecycle hooks with a real Weld SE container, real hook jars (the Maven-built example of
 * docs/hooks.md and test hooks compiled here), real Node processes and in-process WARs in an
 * embedded Tomcat.
 */
class LifecycleHooksTest {

    private static final CapturedLog log = new CapturedLog();
    /** The test hooks compiled here and the example of docs/hooks.md. */
    private static final Path hooks = hooksDirectory();

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> {
        valve.setHooksPath(hooks.toString());
        valve.setHookTimeLimit(1);
        valve.setShutdownTimeLimit(2);
    });

    private static Path hooksDirectory() {
        try {
            Path hooks = Files.createTempDirectory("portico-hooks-");
            TestHookJar.build(hooks.resolve("test-hooks.jar"));
            Files.copy(TestHookJar.exampleJar(), hooks.resolve("crash-log.jar"));
            return hooks;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            tomcat.close(); // while the hooks it runs are still there
        } finally {
            log.close();
            TestFiles.deleteTree(hooks);
        }
    }

    private static String read(String file) {
        try {
            Path path = hooks.resolve(file);
            return Files.exists(path) ? Files.readString(path) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** The generation the app was deployed with, as its AppDeployed event told it. */
    private static long generation(String app) {
        awaitIn("sync.log", "AppDeployed[app=" + app + ",");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("AppDeployed\\[app=" + app + ", [^\\]]*generation=(\\d+)\\]")
                .matcher(read("sync.log"));
        if (!m.find()) {
            throw new AssertionError("no AppDeployed of " + app + " in\n" + read("sync.log"));
        }
        return Long.parseLong(m.group(1));
    }

    private static void awaitRecord(String regex) {
        java.util.regex.Pattern pattern = java.util.regex.Pattern.compile(regex);
        Poll.until(Duration.ofSeconds(20), "sync.log to have " + regex + "\n--- it has:\n" + read("sync.log"),
                () -> pattern.matcher(read("sync.log")).find());
    }

    private static void awaitIn(String file, String text) {
        Poll.until(Duration.ofSeconds(20), file + " to contain " + text
                + "\n--- it has:\n" + read(file), () -> read(file).contains(text));
    }

    @Test
    void theContainerStartsOverTheHookJarsInALoaderOfItsOwn() {
        tomcat.nodeApp("first", "", Map.of());
        awaitIn("sync.log", "AppDeployed[app=first, contextPath=/first, model=outOfProcess");
        awaitIn("async.log", "AppDeployed[app=first");
        awaitIn("visibility.txt", "tomcat=false portico=false cdi=true contextLoader=portico-hooks");
        assertTrue(log.messages(Level.INFO).stream().anyMatch(m -> m.contains("Weld SE container [portico-localhost]")
                && m.contains("testhooks.Recorder") && m.contains("dev.portico.example.hooks.CrashLog")), "the boot is logged");
    }

    @Test
    void aCrashIsAppendedToTheExampleHooksFile() throws Exception {
        tomcat.nodeApp("crashy", "", Map.of());
        long pid = Long.parseLong(Json.field(tomcat.get("/crashy/env").body(), "pid"));
        awaitIn("sync.log", "ProcessReady[app=crashy, generation=" + generation("crashy") + ", pid=" + pid);
        assertEquals("crashing", tomcat.get("/crashy/crash").body());
        awaitIn("crashes.log", "crash app=crashy pid=" + pid + " exitCode=3");
        assertTrue(read("crashes.log").contains("    [node " + pid + "] crashing on purpose (exit 3)"),
                "the process's last output, indented:\n" + read("crashes.log"));
        awaitIn("sync.log", "ProcessExited[app=crashy, generation=" + generation("crashy") + ", pid=" + pid + ", exitCode=3, crashed=true");
    }

    /** A serving app recycled (restart.txt) is told begun and finished; a new version that never gets ready, finished unsucceeded. */
    @Test
    void aRecycleOfAServingAppIsToldBegunAndFinished() throws Exception {
        Path dir = tomcat.nodeApp("recycled", "", Map.of());
        assertEquals(200, tomcat.get("/recycled/env").statusCode());
        long first = generation("recycled");
        Files.writeString(dir.resolve("restart.txt"), "");
        Files.setLastModifiedTime(dir.resolve("restart.txt"),
                java.nio.file.attribute.FileTime.from(java.time.Instant.now().plusSeconds(2)));
        awaitIn("sync.log", "RecycleBegun[app=recycled, fromGeneration=" + first);
        awaitRecord("RecycleFinished\\[app=recycled, toGeneration=\\d+, succeeded=true");
        tomcat.nodeApp("recycled", "", Map.of("BACKEND_FAIL_START", "1"));
        awaitRecord("RecycleFinished\\[app=recycled, toGeneration=\\d+, succeeded=false, message=.*did not get ready");
        assertEquals(200, tomcat.get("/recycled/env").statusCode(), "the serving generation still serves");
    }

    @Test
    void processStartingObserversAddEnvironmentAndArguments() {
        tomcat.nodeApp("secret", "", Map.of());
        Map<?, ?> env = Json.object(tomcat.get("/secret/env?names=HOOK_SECRET").body());
        assertEquals("s3cret-secret", env.get("HOOK_SECRET"));
        long pid = ((Number) env.get("pid")).longValue();
        List<String> arguments = List.of(ProcessHandle.of(pid).orElseThrow().info().arguments().orElseThrow());
        assertEquals("--from-hook", arguments.get(arguments.size() - 1), arguments.toString());
        assertFalse(String.join("\n", log.messages(Level.ALL)).contains("s3cret-secret"), "a hook's secret is never logged");
    }

    @Test
    void aVetoFailsTheStartWithItsReasonOnThe502Page() {
        tomcat.nodeApp("vetoed", "", Map.of());
        var response = tomcat.get("/vetoed/");
        assertEquals(502, response.statusCode());
        assertTrue(response.body().contains("Portico app [vetoed]: a lifecycle hook refused to let the process start: maintenance window until 06:00"),
                response.body());
        awaitIn("sync.log", "StartFailed[app=vetoed, generation=" + generation("vetoed") + ", message=Portico app [vetoed]: a lifecycle hook refused to let the process start");
    }

    @Test
    void aProcessStartingObserverPastTheTimeLimitIsLoggedAndTheProcessStartsAsConfigured() {
        tomcat.nodeApp("slowstart", "", Map.of());
        Map<?, ?> env = Json.object(tomcat.get("/slowstart/env?names=HOOK_SECRET").body());
        assertEquals(null, env.get("HOOK_SECRET"), "what the hook did after the limit is ignored");
        // the observer's own limit and the wait for all of them end at the same time: either says which it was
        assertTrue(log.messages(Level.WARNING).stream().anyMatch(m -> m.contains("testhooks.Secrets")
                && (m.contains("did not answer ProcessStarting[app=slowstart")
                        || m.contains("is still running on ProcessStarting[app=slowstart"))), "logged with the observer's class");
    }

    @Test
    void anObserverThatThrowsIsLoggedWithItsClassAndTheOthersStillHearTheEvent() {
        tomcat.nodeApp("boom", "", Map.of());
        assertEquals(200, tomcat.get("/boom/").statusCode());
        awaitIn("sync.log", "AppDeployed[app=boom");
        awaitIn("async.log", "AppDeployed[app=boom");
        Poll.until(Duration.ofSeconds(10), "the throw logged with the observer's class",
                () -> log.messages(Level.WARNING).stream().anyMatch(m ->
                m.contains("hook [testhooks.Troublemakers] threw on AppDeployed[app=boom")));
    }

    @Test
    void anObserverThatHangsIsInterruptedThenAbandonedAndLaterEventsStillArrive() {
        tomcat.nodeApp("stubborn", "", Map.of());
        awaitIn("sync.log", "stubborn hook interrupted");
        Poll.until(Duration.ofSeconds(10), "the abandoned thread logged",
                () -> log.messages(Level.SEVERE).stream().anyMatch(m ->
                m.contains("hook [testhooks.Troublemakers] did not return on AppDeployed[app=stubborn")));
        tomcat.nodeApp("after", "", Map.of());
        awaitIn("sync.log", "AppDeployed[app=after");
        assertFalse(read("sync.log").contains("stubborn hook returned"), "told on a new thread while the hung one still runs");
        assertEquals(200, tomcat.get("/after/").statusCode(), "hosting goes on");
        awaitIn("sync.log", "stubborn hook returned");
    }

    @Test
    void inProcessContextsAreToldStartedAndStopped() throws Exception {
        Path app = TestApp.write(Files.createTempDirectory(tomcat.apps(), ".staging"), "");
        Files.move(app, tomcat.apps().resolve("war"));
        tomcat.awaitHosted("war");
        assertEquals(200, tomcat.get("/war/info").statusCode());
        awaitIn("sync.log", "ContextStarted[app=war, contextPath=/war, generation=");
        Files.writeString(tomcat.apps().resolve("war/app_offline.htm"), "down");
        awaitIn("sync.log", "AppOffline[app=war]");
        awaitIn("sync.log", "ContextStopped[app=war, contextPath=/war, generation=");
        Files.delete(tomcat.apps().resolve("war/app_offline.htm"));
        awaitIn("sync.log", "AppOnline[app=war]");
    }

    @Test
    void aWebappSeesNoneOfTheHooksCdiAndOneWithItsOwnCdiKeepsIt() throws Exception {
        Path plain = TestApp.write(Files.createTempDirectory(tomcat.apps(), ".staging"), "");
        Files.move(plain, tomcat.apps().resolve("nocdi"));
        Path own = TestApp.write(Files.createTempDirectory(tomcat.apps(), ".staging"), "");
        Files.createDirectories(own.resolve("WEB-INF/lib"));
        TestHookJar.cdiApiJar(own.resolve("WEB-INF/lib/jakarta.enterprise.cdi-api.jar"));
        Files.move(own, tomcat.apps().resolve("owncdi"));
        Poll.until(Duration.ofSeconds(10), "both hosted", () -> tomcat.valve().getHostedApps().containsKey("/owncdi")
                && tomcat.valve().getHostedApps().containsKey("/nocdi"));
        awaitIn("sync.log", "AppDeployed[app=owncdi"); // the container is up and observing

        assertEquals("absent", tomcat.get("/nocdi/visible?class=jakarta.enterprise.inject.spi.CDI").body());
        assertEquals("absent", tomcat.get("/nocdi/visible?class=org.jboss.weld.environment.se.Weld").body());
        assertEquals("absent", tomcat.get("/nocdi/visible?class=jakarta.inject.Inject").body());
        String current = tomcat.get("/owncdi/visible?class=jakarta.enterprise.inject.spi.CDI&call=current").body();
        assertTrue(current.startsWith("webapp current threw java.lang.IllegalStateException"),
                "its own CDI API, and no CDI provider of Portico's found through it: " + current);
        assertEquals("absent", tomcat.get("/owncdi/visible?class=org.jboss.weld.environment.se.Weld").body());
    }
}
