package dev.portico.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.portico.testsupport.Json;

/**
 * What a Node test backend started with {@code BACKEND_RECORD_FILE} received: one JSON line per
 * request ({@code kind} request, body (with {@code bodyLength}), upgrade or clientError — a request
 * the backend could not parse), written before it answers. The files live under
 * {@code CATALINA_BASE/records}, outside the app directories, so writing them never recycles an app.
 */
final class BackendRecord {

    private BackendRecord() {
    }

    /** The record file of an app (its directory is created, so the backend can write it). */
    static Path file(TomcatDistribution tomcat, String app) {
        Path dir = tomcat.catalinaBase().resolve("records");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir.resolve(app + ".jsonl");
    }

    /** The Node backend for an app, recording what it receives. */
    static PorticoXml recordingBackend(TomcatDistribution tomcat, String app) {
        return PorticoXml.nodeBackend().env("BACKEND_RECORD_FILE", file(tomcat, app).toString());
    }

    static String text(TomcatDistribution tomcat, String app) {
        Path file = file(tomcat, app);
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every entry so far (a line still being written is left out). */
    static List<JsonNode> entries(TomcatDistribution tomcat, String app) {
        List<JsonNode> entries = new ArrayList<>();
        for (String line : text(tomcat, app).split("\n")) {
            if (line.endsWith("}")) {
                entries.add(Json.tree(line));
            }
        }
        return entries;
    }
}
