package dev.portico;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.hosting.StdoutLog;
import dev.portico.inprocess.testapp.TestApp;
import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;

/**
 * stdoutLogMaxSize / stdoutLogMaxFiles with real chatty apps: a Node process that prints
 * megabytes before it listens (it can only become ready if rotation never held its pipe), and an
 * in-process WAR printing from a request thread. What is kept is bounded, in whole lines, and
 * the unbroken tail of what was printed; the status page names the file being written.
 */
class StdoutLogRotationTest {

    private static final int MAX_SIZE = 64 * 1024;
    private static final int MAX_FILES = 3;

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> {
        valve.setStdoutLogMaxSize("64K");
        valve.setStdoutLogMaxFiles(MAX_FILES);
    }, t -> { }).withStatusPage();

    @Test
    void aChattyChildProcessIsRotatedWhileItPrints() throws Exception {
        int lines = 100_000; // about 5 MB: some eighty rotations
        Path dir = tomcat.apps().resolve("chatty");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("chatty.js"), """
                const n = Number(process.env.LINES);
                const pad = 'x'.repeat(40);
                for (let i = 1; i <= n; i++) process.stdout.write('line ' + i + ' ' + pad + '\\n');
                require('http').createServer((q, s) => s.end('printed ' + n))
                    .listen(Number(process.env.PORTICO_PORT), '127.0.0.1');
                """);
        tomcat.writeApp("chatty", "<portico processPath=\"node\" arguments=\"chatty.js\" stdoutLogEnabled=\"true\">"
                + "<environmentVariables><environmentVariable name=\"LINES\" value=\"" + lines + "\"/>"
                + "</environmentVariables></portico>");
        assertEquals("printed " + lines, tomcat.get("/chatty/").body());

        Path logs = dir.resolve("logs");
        Poll.until(Duration.ofSeconds(20), "the last line in the current log",
                () -> kept(logs).endsWith("line " + lines + " " + "x".repeat(40) + "\n"));
        assertKeptIsBoundedWholeAndTheTail(logs, lines);
        Path current = statusLogFile("/chatty");
        assertEquals(logs, current.getParent());
        assertTrue(current.getFileName().toString().matches("stdout_\\d{14}_\\d+\\.log") && Files.isRegularFile(current),
                "the status names the file being written: " + current);
    }

    private static Path statusLogFile(String path) {
        Map<?, ?> app = ((List<?>) ((Map<?, ?>) Json.parse(tomcat.get("/portico-status?format=json").body())).get("apps"))
                .stream().map(a -> (Map<?, ?>) a).filter(a -> path.equals(a.get("path"))).findFirst().orElseThrow();
        return Path.of((String) app.get("stdoutLogFile"));
    }

    @Test
    void anInProcessAppIsRotatedAndTheStatusNamesTheCurrentFile() throws Exception {
        Path staging = Files.createTempDirectory(tomcat.apps(), ".staging");
        Files.createDirectories(staging.resolve("WEB-INF"));
        Files.writeString(staging.resolve("WEB-INF/portico.xml"), "<portico stdoutLogEnabled=\"true\"/>");
        TestApp.write(staging, "");
        Path dir = Files.move(staging, tomcat.apps().resolve("talkative"));
        tomcat.awaitHosted("talkative");
        int lines = 20_000;
        assertEquals("printed m", tomcat.get("/talkative/print?marker=m&lines=" + lines).body());
        Path logs = dir.resolve("logs");
        assertTrue(kept(logs).contains("line " + lines + " m\n"));
        assertKeptIsBoundedWholeAndTheTail(logs, lines);

        Path current = statusLogFile("/talkative");
        assertEquals(logs, current.getParent());
        assertTrue(current.getFileName().toString().matches("stdout_\\d{14}_\\d+\\.log"), current.toString());
        assertTrue(Files.readString(current).endsWith("out from app thread m\n")
                || Files.readString(current).contains("line " + lines + " m\n"), "the status names the file being written");
    }

    /** The numbered lines kept (archives, oldest first, then the current file) run without a gap up to the last. */
    private static void assertKeptIsBoundedWholeAndTheTail(Path logs, int lines) throws IOException {
        List<Path> files = files(logs);
        assertTrue(files.size() <= MAX_FILES, "at most stdoutLogMaxFiles files: " + files);
        assertTrue(files.size() >= 2, "it rotated: " + files);
        for (Path file : files) {
            assertTrue(Files.size(file) <= MAX_SIZE + StdoutLog.LINE_SLACK, file + " has " + Files.size(file) + " bytes");
        }
        Matcher numbered = Pattern.compile("line (\\d+) .*").matcher("");
        int expected = -1;
        int first = -1;
        for (String line : kept(logs).split("\n")) {
            if (!numbered.reset(line).matches()) {
                assertTrue(line.startsWith("out from") || line.startsWith("err from"), "a whole line: " + line);
                continue;
            }
            int n = Integer.parseInt(numbered.group(1));
            if (expected >= 0) {
                assertEquals(expected, n, "no line lost or cut between files");
            } else {
                first = n;
            }
            expected = n + 1;
        }
        assertEquals(lines + 1, expected, "the newest line is kept");
        assertTrue(first > 1, "the oldest output is gone");
    }

    /** The current log and its archives, oldest first: archives by number, then the file being written. */
    private static List<Path> files(Path logs) {
        if (!Files.isDirectory(logs)) {
            return List.of();
        }
        try (Stream<Path> all = Files.list(logs)) {
            List<Path> files = new ArrayList<>(all.toList());
            files.sort(Comparator.comparingLong(StdoutLogRotationTest::archiveNumber));
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long archiveNumber(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".log") ? Long.MAX_VALUE : Long.parseLong(name.substring(name.lastIndexOf('.') + 1));
    }

    private static String kept(Path logs) {
        StringBuilder text = new StringBuilder();
        for (Path file : files(logs)) {
            try {
                text.append(Files.readString(file));
            } catch (IOException e) {
                return ""; // rotated away while read: look again
            }
        }
        return text.toString();
    }
}
