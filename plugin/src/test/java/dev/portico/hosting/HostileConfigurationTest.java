package dev.portico.hosting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.CapturedLog;
import dev.portico.testing.HostingTomcat;

/**
 * portico.xml files an administrator did not mean, or an attacker did: each one is a 500.19 page
 * and a log line that name the file and echo nothing large, and the valve goes on hosting.
 */
class HostileConfigurationTest {

    private static final CapturedLog log = new CapturedLog();

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> { });

    @AfterAll
    static void stop() throws Exception {
        log.close();
    }

    private static List<String> errorsNaming(Path file) {
        return log.messages(Level.SEVERE).stream().filter(m -> m.contains(file.toString())).toList();
    }

    @Test
    void aDirectoryNamedPorticoXmlIsAConfigurationErrorNotA404() throws Exception {
        // what `docker run -v /host/missing/portico.xml:/apps/bound/portico.xml` leaves behind
        Path config = Files.createDirectories(tomcat.apps().resolve("bound").resolve("portico.xml"));
        HttpResponse<String> page = tomcat.assertConfigurationError("bound");
        assertTrue(page.body().contains(config.toString()) && page.body().contains("is a directory"), page.body());
        assertEquals(1, errorsNaming(config).size(), "one log line names the file: " + log.messages(Level.WARNING));
    }

    @Test
    void aPipeNamedPorticoXmlInAWarNeitherHangsTheScanNorIsIgnored() throws Exception {
        Path webInf = Files.createDirectories(tomcat.apps().resolve(".piped.staging").resolve("WEB-INF"));
        Path fifo = webInf.resolve("portico.xml");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        Files.move(webInf.getParent(), tomcat.apps().resolve("piped"));
        HttpResponse<String> page = tomcat.assertConfigurationError("piped");
        assertTrue(page.body().contains("not a regular file"), page.body());
        // the scan goes on: an app deployed afterwards is hosted
        tomcat.nodeApp("after-pipe", "", Map.of());
        assertEquals(200, tomcat.get("/after-pipe/env").statusCode());
    }

    @Test
    void aHugeAttributeValueIsEchoedAsAnExcerptInThePageAndTheLog() {
        String value = "x".repeat(600_000);
        tomcat.writeApp("verbose", "<portico processPath=\"node\" startupTimeLimit=\"" + value + "\"/>");
        HttpResponse<String> page = tomcat.assertConfigurationError("verbose");
        assertTrue(page.body().length() < 5_000, "page of " + page.body().length() + " chars");
        assertTrue(page.body().contains("x".repeat(200) + "… (600000 chars)"), page.body());
        Path config = tomcat.apps().resolve("verbose").resolve("portico.xml");
        List<String> lines = errorsNaming(config);
        assertFalse(lines.isEmpty(), "a log line names the file");
        lines.forEach(line -> assertTrue(line.length() < 2_000, "log line of " + line.length() + " chars"));
    }

    @Test
    void aFiveMegabyteFileIsRefusedWithoutReadingIt() {
        tomcat.writeApp("bloated", "<portico processPath=\"node\" arguments=\"" + "y".repeat(5 * 1024 * 1024) + "\"/>");
        HttpResponse<String> page = tomcat.assertConfigurationError("bloated");
        assertTrue(page.body().contains("larger than 1 MiB"), page.body());
        assertTrue(page.body().length() < 5_000, "page of " + page.body().length() + " chars");
    }
}
