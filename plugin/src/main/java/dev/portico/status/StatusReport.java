package dev.portico.status;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Locale;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import dev.portico.hosting.AppCatalog;
import dev.portico.hosting.AppMetrics;
import dev.portico.hosting.AppSource;
import dev.portico.hosting.AppStatus;

/**
 * The valve's status page: every hosted app, its hosting model and state, its request figures
 * and, for an out-of-process app, each of its processes (pid, port, state, requests, in flight,
 * memory, last failure). One page, three forms: HTML for people ({@link StatusHtml}), JSON for
 * scripts, the Prometheus text format for scrapers ({@link PrometheusText}). Read from each
 * app's typed {@link AppStatus} and its slot's {@link AppMetrics}.
 */
public final class StatusReport {

    /** The forms of the page. */
    public enum Format {
        HTML("text/html;charset=UTF-8"),
        JSON("application/json;charset=UTF-8"),
        PROMETHEUS("text/plain;version=0.0.4;charset=utf-8");

        private final String contentType;

        Format(String contentType) {
            this.contentType = contentType;
        }

        /**
         * {@code ?format=html|json|prometheus} decides; otherwise the Accept header: a Prometheus
         * scraper asks for {@code text/plain}, a browser for {@code text/html}, anything else
         * (scripts, {@code curl}, no Accept at all) gets JSON as before. Null for an unknown format.
         */
        static Format of(HttpServletRequest request) {
            String asked = queryParameter(request.getQueryString(), "format");
            if (asked != null) {
                return switch (asked.toLowerCase(Locale.ROOT)) {
                    case "html" -> HTML;
                    case "json" -> JSON;
                    case "prometheus" -> PROMETHEUS;
                    default -> null;
                };
            }
            String accept = request.getHeader("Accept");
            if (accept == null) {
                return JSON;
            }
            accept = accept.toLowerCase(Locale.ROOT);
            if (accept.contains("application/json")) {
                return JSON;
            }
            if (accept.contains("text/html")) {
                return HTML;
            }
            if (accept.contains("text/plain") || accept.contains("application/openmetrics-text")) {
                return PROMETHEUS;
            }
            return JSON;
        }
    }

    private StatusReport() {
    }

    public static void send(AppCatalog catalog, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        Format format = Format.of(request);
        if (format == null) {
            response.sendError(400, "format must be html, json or prometheus");
            return;
        }
        String page = switch (format) {
            case HTML -> StatusHtml.page(catalog, Instant.now());
            case JSON -> json(catalog);
            case PROMETHEUS -> PrometheusText.page(catalog);
        };
        byte[] body = page.getBytes(StandardCharsets.UTF_8);
        response.setStatus(200);
        response.setContentType(format.contentType);
        response.setHeader("Cache-Control", "no-store");
        response.setHeader("Vary", "Accept");
        response.setContentLength(body.length);
        if ("HEAD".equals(request.getMethod())) {
            return;
        }
        try (OutputStream out = response.getOutputStream()) {
            out.write(body);
        }
    }

    private static String queryParameter(String query, String name) {
        if (query == null) {
            return null;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                return pair.substring(eq + 1);
            }
        }
        return null;
    }

    static String json(AppCatalog catalog) {
        Json json = new Json().raw("{\"apps\":[");
        boolean first = true;
        for (AppCatalog.Slot slot : catalog.slots()) {
            json.raw(first ? "" : ",");
            first = false;
            app(json, slot);
            json.raw("\"processes\":[");
            boolean firstProcess = true;
            for (AppStatus.ProcessStatus process : slot.status().processes()) {
                json.raw(firstProcess ? "{" : ",{");
                firstProcess = false;
                process(json, process);
            }
            json.raw("]}");
        }
        return json.raw("]}\n").toString();
    }

    private static void app(Json json, AppCatalog.Slot slot) {
        AppSource source = slot.source();
        AppStatus status = slot.status();
        AppMetrics.Snapshot metrics = slot.metrics().snapshot();
        // the first process's figures at the top level too: what a one-process app's readers expect
        AppStatus.ProcessStatus main = status.processes().isEmpty() ? null : status.processes().get(0);
        json.raw("{").field("name", source.name())
                .field("path", source.displayPath())
                .field("location", source.location().toString())
                .field("offline", slot.offlinePage() != null)
                .field("offlineReason", slot.offlineReason())
                .field("model", status.model())
                .field("state", status.state())
                .field("description", status.description())
                .field("generation", status.generation())
                .field("pid", main == null ? null : main.pid())
                .field("port", main == null || main.socket() != null ? null : main.port())
                .field("socket", main == null || main.socket() == null ? null : main.socket().toString())
                .field("startedAt", main == null ? null : main.startedAt())
                .field("starts", status.starts())
                .field("crashes", status.crashes())
                .field("uptimeSeconds", status.uptime(Instant.now()) == null ? null
                        : status.uptime(Instant.now()).toSeconds())
                .field("inFlight", status.inFlight())
                .field("requests", metrics.requests())
                .field("failures", metrics.failures())
                .field("lastFailure", status.lastFailure() == null ? null : status.lastFailure().message())
                .field("lastFailureAt", status.lastFailure() == null ? null : status.lastFailure().at())
                .field("nextAttemptAt", status.nextAttemptAt())
                .field("stdoutLogFile", status.stdoutLogFile() == null ? null : status.stdoutLogFile().toString());
    }

    private static void process(Json json, AppStatus.ProcessStatus process) {
        json.field("pid", process.pid()).field("port", process.socket() != null ? null : process.port())
                .field("socket", process.socket() == null ? null : process.socket().toString())
                .field("state", process.state())
                .field("generation", process.generation()).field("requests", process.requests())
                .field("inFlight", process.inFlight()).field("startedAt", process.startedAt())
                .field("readyAt", process.readyAt())
                .field("residentBytes", process.residentBytes() < 0 ? null : process.residentBytes())
                .field("lastFailure", process.lastFailure() == null ? null : process.lastFailure().message())
                .endObject();
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
