package dev.portico.hosting;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import jakarta.servlet.http.HttpServletResponse;

/**
 * The valve's status page: every hosted app, its hosting model and state, and for an
 * out-of-process app each of its processes (pid, port, state, requests, in flight, memory, last
 * failure), as JSON for scripts and monitoring. Read from each app's typed {@link AppStatus}.
 */
public final class StatusReport {

    private StatusReport() {
    }

    public static void send(AppCatalog catalog, HttpServletResponse response) throws IOException {
        byte[] body = json(catalog).getBytes(StandardCharsets.UTF_8);
        response.setStatus(200);
        response.setContentType("application/json;charset=UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(body.length);
        try (OutputStream out = response.getOutputStream()) {
            out.write(body);
        }
    }

    static String json(AppCatalog catalog) {
        Json json = new Json().raw("{\"apps\":[");
        boolean first = true;
        for (AppCatalog.Slot slot : catalog.slots()) {
            json.raw(first ? "" : ",");
            first = false;
            AppSource source = slot.source();
            AppStatus status = slot.app().status();
            // the first process's figures at the top level too: what a one-process app's readers expect
            AppStatus.ProcessStatus main = status.processes().isEmpty() ? null : status.processes().get(0);
            json.raw("{").field("name", source.name())
                    .field("path", source.contextPath().isEmpty() ? "/" : source.contextPath())
                    .field("location", source.location().toString())
                    .field("offline", slot.offlinePage() != null)
                    .field("model", status.model())
                    .field("state", status.state())
                    .field("description", status.description())
                    .field("generation", status.generation())
                    .field("pid", main == null ? null : main.pid())
                    .field("port", main == null ? null : main.port())
                    .field("startedAt", main == null ? null : main.startedAt())
                    .field("starts", status.starts())
                    .field("crashes", status.crashes())
                    .field("inFlight", status.inFlight())
                    .field("lastFailure", status.lastFailure() == null ? null : status.lastFailure().message())
                    .field("lastFailureAt", status.lastFailure() == null ? null : status.lastFailure().at())
                    .field("nextAttemptAt", status.nextAttemptAt())
                    .field("stdoutLogFile", status.stdoutLogFile() == null ? null : status.stdoutLogFile().toString())
                    .raw("\"processes\":[");
            boolean firstProcess = true;
            for (AppStatus.ProcessStatus process : status.processes()) {
                json.raw(firstProcess ? "{" : ",{");
                firstProcess = false;
                json.field("pid", process.pid()).field("port", process.port()).field("state", process.state())
                        .field("generation", process.generation()).field("requests", process.requests())
                        .field("inFlight", process.inFlight()).field("startedAt", process.startedAt())
                        .field("readyAt", process.readyAt())
                        .field("residentBytes", process.residentBytes() < 0 ? null : process.residentBytes())
                        .field("lastFailure", process.lastFailure() == null ? null : process.lastFailure().message())
                        .endObject();
            }
            json.raw("]}");
        }
        return json.raw("]}\n").toString();
    }

    /** Just enough JSON writing for this page: fields end with a comma that {@link #endObject} and raw text take back. */
    private static final class Json {
        private final StringBuilder out = new StringBuilder(1024);

        Json raw(String text) {
            out.append(text);
            return this;
        }

        Json field(String name, Object value) {
            quote(name);
            out.append(':');
            if (value == null) {
                out.append("null");
            } else if (value instanceof Number || value instanceof Boolean) {
                out.append(value);
            } else {
                quote(value instanceof Instant instant ? instant.toString() : value.toString());
            }
            out.append(',');
            return this;
        }

        Json endObject() {
            out.setLength(out.length() - 1);
            out.append('}');
            return this;
        }

        private void quote(String text) {
            out.append('"');
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }

        @Override
        public String toString() {
            return out.toString();
        }
    }
}
