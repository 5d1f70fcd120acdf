package dev.portico.hosting;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.http.HttpServletResponse;

import dev.portico.config.ConfigException;

/**
 * The pages Portico answers with when it, not the app, has to answer: ANCM's sub-status codes
 * in the title so an administrator can search for them, what failed, and — unless the app
 * turned detailed pages off — the last lines the process printed and where its log is.
 */
public final class ErrorPage {

    private final int status;
    private final String title;
    private final String summary;
    private final String details;
    private final byte[] rawBody;
    private int retryAfterSeconds;

    private ErrorPage(int status, String title, String summary, String details, byte[] rawBody) {
        this.status = status;
        this.title = title;
        this.summary = summary;
        this.details = details;
        this.rawBody = rawBody;
    }

    public static ErrorPage processFailure(String appName, StartFailure failure, boolean showDetails) {
        String details = null;
        if (showDetails) {
            StringBuilder text = new StringBuilder();
            if (failure.logFile() != null) {
                text.append("stdout log: ").append(failure.logFile()).append("\n\n");
            }
            text.append(failure.outputTail().isEmpty() ? "(the process printed nothing)" : failure.outputTail());
            details = text.toString();
        }
        return new ErrorPage(502, "HTTP Error 502.5 - Process Failure",
                showDetails ? failure.getMessage() : "The application '" + appName + "' failed to start.", details, null);
    }

    public static ErrorPage gatewayFailure(boolean timeout, String reason) {
        return timeout
                ? new ErrorPage(504, "HTTP Error 504 - Gateway Timeout", reason, null, null)
                : new ErrorPage(502, "HTTP Error 502.3 - Bad Gateway", reason, null, null);
    }

    /** The client's request could not be read to its end (a malformed chunked body, a cut upload). */
    public static ErrorPage badRequest(String reason) {
        return new ErrorPage(400, "HTTP Error 400 - Bad Request", reason, null, null);
    }

    public static ErrorPage configError(ConfigException error, boolean showDetails) {
        return new ErrorPage(500, "HTTP Error 500.19 - Invalid configuration",
                showDetails ? error.getMessage() : "The application's portico.xml is invalid; see the Tomcat log.",
                null, null);
    }

    public static ErrorPage startupFailure(String summary, String details, boolean showDetails) {
        return new ErrorPage(500, "HTTP Error 500.30 - In-process start failure",
                showDetails ? summary : "The application failed to start; see the Tomcat log.",
                showDetails ? details : null, null);
    }

    public static ErrorPage startupTimeLimitExceeded(String summary, boolean showDetails) {
        return new ErrorPage(500, "HTTP Error 500.37 - Startup time limit exceeded",
                showDetails ? summary : "The application did not start in time; see the Tomcat log.", null, null);
    }

    /** Too many requests wait for a process already (maxQueuedRequests): come back in a second. */
    public static ErrorPage saturated(String reason) {
        return new ErrorPage(503, "HTTP Error 503.2 - Too many requests waiting", reason, null, null).retryAfter(1);
    }

    /** The app stopped (removed, or a generation ended) before it could answer: try again in a second. */
    public static ErrorPage unavailable(String reason) {
        return new ErrorPage(503, "HTTP Error 503 - Service Unavailable", reason, null, null).retryAfter(1);
    }

    private ErrorPage retryAfter(int seconds) {
        this.retryAfterSeconds = seconds;
        return this;
    }

    public static ErrorPage offline(byte[] appOfflineHtml) {
        return new ErrorPage(503, null, null, null, appOfflineHtml);
    }

    public int status() {
        return status;
    }

    public void send(HttpServletResponse response) throws IOException {
        byte[] body = rawBody != null ? rawBody : html().getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("text/html;charset=UTF-8");
        response.setContentLength(body.length);
        response.setHeader("Cache-Control", "no-store");
        if (retryAfterSeconds > 0) {
            response.setHeader("Retry-After", Integer.toString(retryAfterSeconds));
        }
        try (OutputStream out = response.getOutputStream()) {
            out.write(body);
        }
    }

    private String html() {
        StringBuilder html = new StringBuilder(1024)
                .append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
                .append(escape(title)).append("</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:60em}")
                .append("h1{font-size:1.4em;color:#8a1c1c}pre{background:#f4f4f4;padding:1em;overflow:auto}</style>")
                .append("</head><body>\n<h1>").append(escape(title)).append("</h1>\n<p>").append(escape(summary))
                .append("</p>\n");
        if (details != null) {
            html.append("<pre>").append(escape(details)).append("</pre>\n");
        }
        return html.append("<p><small>Portico</small></p>\n</body></html>\n").toString();
    }

    /** Text made safe for HTML element content and quoted attribute values. */
    public static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
