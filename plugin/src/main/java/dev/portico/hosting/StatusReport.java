package dev.portico.hosting;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import jakarta.servlet.http.HttpServletResponse;

/**
 * The valve's status page: every hosted app, its hosting model and state, and for an
 * out-of-process app its process (pid, port, start time, starts, requests in flight, last
 * failure), as JSON for scripts and monitoring.
 */
public final class StatusReport {

    private StatusReport() {
    }

    public static void send(AppCatalog catalog, HttpServletResponse response) throws IOException {
        StringBuilder json = new StringBuilder(512).append("{\"apps\":[");
        boolean first = true;
        for (AppCatalog.Slot slot : catalog.slots()) {
            if (!first) {
                json.append(',');
            }
            first = false;
            AppSource source = slot.source();
            json.append("{\"name\":").append(quote(source.name()))
                    .append(",\"path\":").append(quote(source.contextPath().isEmpty() ? "/" : source.contextPath()))
                    .append(",\"location\":").append(quote(source.location().toString()))
                    .append(",\"offline\":").append(slot.offlinePage() != null)
                    .append(",\"description\":").append(quote(slot.app().describe()));
            for (Map.Entry<String, Object> figure : slot.app().figures().entrySet()) {
                json.append(',').append(quote(figure.getKey())).append(':').append(value(figure.getValue()));
            }
            json.append('}');
        }
        byte[] body = json.append("]}\n").toString().getBytes(StandardCharsets.UTF_8);
        response.setStatus(200);
        response.setContentType("application/json;charset=UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(body.length);
        try (OutputStream out = response.getOutputStream()) {
            out.write(body);
        }
    }

    private static String value(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof Number || value instanceof Boolean) {
            return value.toString();
        }
        return quote(value.toString());
    }

    private static String quote(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
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
        return out.append('"').toString();
    }
}
