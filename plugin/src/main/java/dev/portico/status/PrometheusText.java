package dev.portico.status;

import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

import dev.portico.hosting.AppCatalog;
import dev.portico.hosting.AppMetrics;
import dev.portico.hosting.AppStatus;

/**
 * The status page in Prometheus' text exposition format (version 0.0.4): per app, requests,
 * failures, requests in flight, starts and crashes, whether it is up or offline, and a
 * histogram of request latency. Every series carries the labels {@code app} (its name) and
 * {@code path} (its context path).
 */
final class PrometheusText {

    private PrometheusText() {
    }

    /** One app's figures, read once per page. */
    private record App(String labels, boolean offline, AppStatus status, AppMetrics.Snapshot metrics) {
    }

    /** A series with one sample per app. */
    private record Series(String name, String type, String help, ToLongFunction<App> value) {
    }

    private static final List<Series> SERIES = List.of(
            new Series("portico_app_up", "gauge", "1 while the app is running (in-process) or has a ready process.",
                    app -> !app.offline() && "running".equals(app.status().state()) ? 1 : 0),
            new Series("portico_app_offline", "gauge",
                    "1 while the app is offline (app_offline.htm or an operator's hold).", app -> app.offline() ? 1 : 0),
            new Series("portico_requests_total", "counter", "Requests the valve handed to the app.",
                    app -> app.metrics().requests()),
            new Series("portico_request_failures_total", "counter",
                    "Requests that ended with a status of 500 or more (Portico's 502 and 504 pages included).",
                    app -> app.metrics().failures()),
            new Series("portico_requests_in_flight", "gauge", "Requests the app is answering now.",
                    app -> app.status().inFlight()),
            new Series("portico_app_starts_total", "counter",
                    "Processes (or Contexts) started by the app's current generation; a recycle starts again from 0.",
                    app -> app.status().starts()),
            new Series("portico_app_crashes_total", "counter",
                    "Unrequested exits of ready processes in the app's current generation; a recycle starts again from 0.",
                    app -> app.status().crashes()));

    static String page(AppCatalog catalog) {
        List<App> apps = catalog.slots().stream().map(slot -> new App("app=\"" + label(slot.source().name())
                + "\",path=\"" + label(slot.source().displayPath()) + "\"", slot.offlinePage() != null,
                slot.status(), slot.metrics().snapshot())).toList();
        StringBuilder out = new StringBuilder(1024 + apps.size() * 1536);
        family(out, "portico_app_info", "gauge", "Always 1; the app's hosting model and state as labels.");
        for (App app : apps) {
            String state = app.offline() ? "offline" : app.status().state();
            sample(out, "portico_app_info", app.labels() + ",model=\"" + label(app.status().model()) + "\",state=\""
                    + label(state) + "\"", 1);
        }
        for (Series series : SERIES) {
            family(out, series.name(), series.type(), series.help());
            for (App app : apps) {
                sample(out, series.name(), app.labels(), series.value().applyAsLong(app));
            }
        }
        family(out, "portico_request_duration_seconds", "histogram",
                "Time from the valve handing a request to the app until it ended (async completion included).");
        for (App app : apps) {
            histogram(out, app.labels(), app.metrics());
        }
        return out.toString();
    }

    private static void histogram(StringBuilder out, String labels, AppMetrics.Snapshot metrics) {
        long cumulative = 0;
        for (int b = 0; b < AppMetrics.BUCKET_SECONDS.length; b++) {
            cumulative += metrics.buckets()[b];
            sample(out, "portico_request_duration_seconds_bucket",
                    labels + ",le=\"" + number(AppMetrics.BUCKET_SECONDS[b]) + "\"", cumulative);
        }
        cumulative += metrics.buckets()[AppMetrics.BUCKET_SECONDS.length];
        sample(out, "portico_request_duration_seconds_bucket", labels + ",le=\"+Inf\"", cumulative);
        out.append("portico_request_duration_seconds_sum{").append(labels).append("} ")
                .append(number(metrics.nanos() / 1e9)).append('\n');
        sample(out, "portico_request_duration_seconds_count", labels, cumulative);
    }

    private static void family(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String name, String labels, long value) {
        out.append(name).append('{').append(labels).append("} ").append(value).append('\n');
    }

    private static String number(double value) {
        String text = String.format(Locale.ROOT, "%.9f", value);
        text = text.replaceAll("0+$", "");
        return text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
    }

    /** A label value: backslash, double quote and line feed escaped, as the format requires. */
    private static String label(String value) {
        if (value == null) {
            return "";
        }
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
