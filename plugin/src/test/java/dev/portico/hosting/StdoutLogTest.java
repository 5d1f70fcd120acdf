package dev.portico.hosting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.portico.config.AppConfig;
import dev.portico.config.ConfigException;
import dev.portico.config.PorticoXml;
import dev.portico.config.ValveSettings;

/** Size-based rotation of a stdout log: whole lines, a bounded number of files, nothing lost in what is kept. */
class StdoutLogTest {

    @TempDir
    Path dir;

    private AppConfig config(long maxSize, int maxFiles) {
        String xml = "<portico processPath='x' stdoutLogEnabled='true' stdoutLogMaxSize='" + maxSize
                + "' stdoutLogMaxFiles='" + maxFiles + "'/>";
        try {
            return new PorticoXml(new ValveSettings((attribute, value, reason) -> reason)).read(
                    new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)), dir.resolve("portico.xml"), dir, false);
        } catch (ConfigException e) {
            throw new AssertionError(e);
        }
    }

    private static void print(StdoutLog log, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        log.write(bytes, 0, bytes.length);
    }

    @Test
    void rotatesAtTheLastLineBreakThatFitsAndKeepsTheNewestFiles() throws IOException {
        StringBuilder all = new StringBuilder();
        try (StdoutLog log = StdoutLog.open(config(4096, 3), 42)) {
            assertTrue(log.file().getFileName().toString().matches("stdout_\\d{14}_42\\.log"), log.file().toString());
            for (int i = 1; i <= 1000; i++) {
                String line = "line " + i + " " + "x".repeat(i % 50) + "\n";
                all.append(line);
                print(log, line);
            }
            assertFalse(Files.exists(log.archive(1)), "the oldest archives are deleted");
            StringBuilder kept = new StringBuilder();
            int files = 0;
            for (long n = 1; n < 10_000; n++) {
                Path archive = log.archive(n);
                if (Files.exists(archive)) {
                    files++;
                    kept.append(Files.readString(archive));
                    assertTrue(Files.size(archive) <= 4096, archive + " is " + Files.size(archive) + " bytes");
                    assertTrue(Files.readString(archive).endsWith("\n"), "a line is never cut: " + archive);
                }
            }
            kept.append(Files.readString(log.file()));
            assertEquals(2, files, "stdoutLogMaxFiles=3 is the current file and two archives");
            assertTrue(all.toString().endsWith(kept.toString()), "what is kept is the output's unbroken tail");
            assertTrue(kept.length() > 2 * 4096 - 100, "the archives are full: " + kept.length());
        }
    }

    @Test
    void aLineBegunByAnEarlierWriteIsFinishedInTheSameFile() throws IOException {
        try (StdoutLog log = StdoutLog.open(config(4096, 3), 5)) {
            print(log, "x".repeat(4085) + "\n" + "half a li"); // a pipe read that ends inside a line, 1 byte left
            print(log, "ne\nnext line\n");
            assertEquals("x".repeat(4085) + "\nhalf a line\n", Files.readString(log.archive(1)));
            assertEquals("next line\n", Files.readString(log.file()));
        }
    }

    @Test
    void oneFileOnlyStartsOverAndALineLongerThanTheFileIsCut() throws IOException {
        try (StdoutLog log = StdoutLog.open(config(4096, 1), 7)) {
            print(log, "a".repeat(3000) + "\n");
            print(log, "b".repeat(10_000) + "\n");
            String content = Files.readString(log.file());
            assertTrue(content.length() <= 4096, "bounded: " + content.length());
            assertTrue(content.matches("b+\n"), "the tail of the long line");
            try (var files = Files.list(log.file().getParent())) {
                assertEquals(1, files.count());
            }
        }
    }

    @Test
    void noLimitNeverRotatesAndReopeningAppends() throws IOException {
        Path file;
        try (StdoutLog log = StdoutLog.open(config(0, 2), 9)) {
            file = log.file();
            print(log, "x".repeat(100_000) + "\n");
        }
        try (StdoutLog log = StdoutLog.open(config(0, 2), 9)) {
            if (log.file().equals(file)) {
                print(log, "more\n");
                assertEquals(100_006, Files.size(file));
            }
            assertFalse(Files.exists(log.archive(1)));
        }
    }
}
