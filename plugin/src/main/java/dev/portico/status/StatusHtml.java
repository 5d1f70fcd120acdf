package dev.portico.status;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import dev.portico.hosting.AppCatalog;
import dev.portico.hosting.AppMetrics;
import dev.portico.hosting.AppStatus;
import dev.portico.hosting.ErrorPage;

/**
 * The status page for people, after {@code passenger-status}: one table row per app (a link to
 * it, model, state, requests, failures, in flight, starts, crashes, uptime, last failure) and
 * under it one row per process (pid, port, state, uptime, requests, in flight, memory).
 */
final class StatusHtml {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private StatusHtml() {
    }

    static String page(AppCatalog catalog, Instant now) {
        StringBuilder html = new StringBuilder(4096).append("""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>Portico status</title>
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <style>
                body{font-family:system-ui,sans-serif;margin:2em;color:#222}
                h1{font-size:1.4em}
                table{border-collapse:collapse;margin-top:1em}
                th,td{padding:.35em .7em;text-align:left;border-bottom:1px solid #ddd;vertical-align:top}
                th{background:#f4f4f4;font-weight:600}
                td.n{text-align:right;font-variant-numeric:tabular-nums}
                tr.process td{color:#555;font-size:.92em;border-bottom:1px dotted #e4e4e4}
                tr.process td:first-child{padding-left:2em}
                .running,.ready{color:#176c2e;font-weight:600}
                .failed,.backoff,.offline{color:#a11;font-weight:600}
                .starting,.stopping,.idle{color:#8a6d00;font-weight:600}
                .failure{color:#a11;min-width:18em;max-width:28em;font-size:.9em;overflow-wrap:break-word}
                .failure summary{cursor:pointer}
                .failure pre{white-space:pre-wrap;font-size:.85em;color:#444;max-height:20em;overflow:auto}
                footer{margin-top:1.5em;color:#777;font-size:.85em}
                </style></head><body>
                <h1>Portico: hosted apps</h1>
                """);
        if (catalog.slots().isEmpty()) {
            html.append("<p>No app is hosted. Put a WAR, or a directory with portico.xml, into the valve's appBase.</p>\n");
        } else {
            html.append("<table>\n<thead><tr><th>app</th><th>model</th><th>state</th><th>requests</th><th>failures</th>"
                    + "<th>in flight</th><th>starts</th><th>crashes</th><th>uptime</th><th>last failure</th></tr></thead>\n<tbody>\n");
            for (AppCatalog.Slot slot : catalog.slots()) {
                app(html, slot, now);
            }
            html.append("</tbody></table>\n");
        }
        return html.append("<footer>").append(escape(TIME.format(now)))
                .append(" · also as <a href=\"?format=json\">JSON</a> and <a href=\"?format=prometheus\">Prometheus text</a>")
                .append("</footer>\n</body></html>\n").toString();
    }

    private static void app(StringBuilder html, AppCatalog.Slot slot, Instant now) {
        AppStatus status = slot.status();
        AppMetrics.Snapshot metrics = slot.metrics().snapshot();
        String path = slot.source().displayPath();
        String href = path.endsWith("/") ? path : path + "/";
        String offline = slot.offlineReason();
        String state = offline != null ? "offline" : status.state();
        html.append("<tr class=\"app\"><td><a href=\"").append(escape(href)).append("\">").append(escape(path))
                .append("</a><br><small>").append(escape(slot.source().name())).append("</small></td>")
                .append("<td>").append(escape(status.model())).append("</td>")
                .append("<td class=\"").append(escape(state)).append("\" title=\"").append(escape(status.description()))
                .append("\">").append(escape(state))
                .append(offline != null ? " <small>(" + escape(offline) + ")</small>" : "")
                .append(status.generation() > 0 ? "<br><small>generation " + status.generation() + "</small>" : "")
                .append("</td>");
        number(html, metrics.requests());
        number(html, metrics.failures());
        number(html, status.inFlight());
        number(html, status.starts());
        number(html, status.crashes());
        html.append("<td>").append(duration(status.uptime(now))).append("</td>");
        failure(html, status.lastFailure(), status.nextAttemptAt());
        html.append("</tr>\n");
        for (AppStatus.ProcessStatus process : status.processes()) {
            Instant up = process.readyAt() != null ? process.readyAt() : process.startedAt();
            html.append("<tr class=\"process\"><td>pid ").append(process.pid()).append("</td><td>")
                    .append(process.socket() != null ? "socket " + escape(process.socket().toString())
                            : "port " + process.port()).append("</td><td class=\"").append(escape(process.state())).append("\">")
                    .append(escape(process.state())).append("</td>");
            number(html, process.requests());
            html.append("<td></td>");
            number(html, process.inFlight());
            html.append("<td colspan=\"2\">").append(process.residentBytes() < 0 ? ""
                    : escape(megabytes(process.residentBytes())) + " resident").append("</td><td>")
                    .append(duration(up == null ? null : Duration.between(up, now))).append("</td>");
            failure(html, process.lastFailure(), null);
            html.append("</tr>\n");
        }
    }

    private static void number(StringBuilder html, long value) {
        html.append("<td class=\"n\">").append(value).append("</td>");
    }

    private static void failure(StringBuilder html, AppStatus.Failure failure, Instant nextAttemptAt) {
        html.append("<td class=\"failure\">");
        if (failure != null) {
            if (failure.at() != null) {
                html.append("<small>").append(escape(TIME.format(failure.at()))).append("</small><br>");
            }
            // the first line in the table; the rest (the process's last output) one click away
            String message = failure.message();
            int newline = message.indexOf('\n');
            if (newline < 0) {
                html.append(escape(message));
            } else {
                html.append("<details><summary>").append(escape(message.substring(0, newline)))
                        .append("</summary><pre>").append(escape(message.substring(newline + 1))).append("</pre></details>");
            }
        }
        if (nextAttemptAt != null) {
            html.append("<br><small>next attempt ").append(escape(TIME.format(nextAttemptAt))).append("</small>");
        }
        html.append("</td>");
    }

    static String duration(Duration duration) {
        if (duration == null || duration.isNegative()) {
            return "";
        }
        long seconds = duration.toSeconds();
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return seconds / 60 + "m " + seconds % 60 + "s";
        }
        if (seconds < 86400) {
            return seconds / 3600 + "h " + seconds % 3600 / 60 + "m";
        }
        return seconds / 86400 + "d " + seconds % 86400 / 3600 + "h";
    }

    private static String megabytes(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    }

    private static String escape(String text) {
        return ErrorPage.escape(text == null ? "" : text);
    }
}
