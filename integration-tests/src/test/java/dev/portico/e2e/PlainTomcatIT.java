package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

import dev.portico.testsupport.FreePort;

/** The harness itself, on the plain distribution (no plugin): start, serve, kill, start, stop. */
class PlainTomcatIT {

    @Test
    void startsServesKillsRestartsAndStopsTheRealDistribution() {
        try (TomcatDistribution tomcat = TomcatDistribution.named("plain").withoutPortico().start()) {
            assertServesRoot(tomcat);
            long firstJvm = tomcat.tomcatPid();

            tomcat.kill();
            assertFalse(Pids.isRunning(firstJvm), "the killed Tomcat JVM is gone");
            assertFalse(FreePort.accepts(tomcat.httpPort()), "nothing listens after the kill");

            tomcat.start();
            assertNotEquals(firstJvm, tomcat.tomcatPid());
            assertServesRoot(tomcat);

            tomcat.stop();
            assertFalse(tomcat.isRunning());
            tomcat.assertNoLeftoverProcesses();
            assertTrue(tomcat.log().contains("Server startup in"), "the log holds Tomcat's own output");
            tomcat.assertCleanLog();
        }
    }

    @Test
    void leftoverProcessCheckFindsAndKillsAProcessThatMentionsTheCatalinaBase() throws IOException {
        try (TomcatDistribution tomcat = TomcatDistribution.named("leftover").withoutPortico().create()) {
            ProcessBuilder straggler = new ProcessBuilder("sleep", "300");
            straggler.environment().put("CATALINA_BASE", tomcat.catalinaBase().toString());
            Process sleeper = straggler.start();
            try {
                AssertionError failure = assertThrows(AssertionError.class, tomcat::assertNoLeftoverProcesses);
                assertTrue(failure.getMessage().contains("pid " + sleeper.pid()), failure.getMessage());
                Pids.awaitGone(sleeper.pid(), Duration.ofSeconds(5), "the straggler");
            } finally {
                sleeper.destroyForcibly();
            }
        }
    }

    private static void assertServesRoot(TomcatDistribution tomcat) {
        HttpResponse<String> response = tomcat.http().get("/index.html");
        assertEquals(200, response.statusCode());
        assertTrue(response.body().contains("plain tomcat root"), response.body());
    }
}
