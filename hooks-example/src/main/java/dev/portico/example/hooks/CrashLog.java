package dev.portico.example.hooks;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.ObservesAsync;

import dev.portico.hooks.api.ProcessExited;
import dev.portico.hooks.api.StartFailed;

/**
 * Appends every crash of a hosted process, and every failed start, to {@code crashes.log} in
 * the directory this jar is in (or to the file the system property {@code portico.crashLog}
 * names): one header line, then the process's last output, indented.
 *
 * <p>An asynchronous observer: writing a file is a notification nobody needs to wait for.
 */
@ApplicationScoped
public class CrashLog {

    private final Path file;

    public CrashLog() {
        String configured = System.getProperty("portico.crashLog");
        file = configured != null ? Path.of(configured) : besideThisJar().resolve("crashes.log");
    }

    void crashed(@ObservesAsync ProcessExited exit) throws IOException {
        if (exit.crashed()) {
            append("crash app=" + exit.app() + " pid=" + exit.pid() + " exitCode=" + exit.exitCode(), exit.outputTail());
        }
    }

    void failedToStart(@ObservesAsync StartFailed failure) throws IOException {
        append("start failed app=" + failure.app() + ": " + failure.message(), failure.outputTail());
    }

    /** Observers run in parallel: one append at a time keeps each entry whole. */
    private synchronized void append(String header, String output) throws IOException {
        StringBuilder entry = new StringBuilder(Instant.now().toString()).append(' ').append(header).append('\n');
        for (String line : output.split("\n", -1)) {
            if (!line.isEmpty()) {
                entry.append("    ").append(line).append('\n');
            }
        }
        Files.writeString(file, entry, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static Path besideThisJar() {
        try {
            return Path.of(CrashLog.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
