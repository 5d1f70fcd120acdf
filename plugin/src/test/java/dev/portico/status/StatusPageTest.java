package dev.portico.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.catalina.valves.RemoteIpValve;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.hosting.ErrorPage;
import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;

/**
 * The status page's three forms (HTML for a browser, JSON as before, Prometheus text) and who may
 * read it: loopback clients, and others only as users with a role the operator named. A
 * RemoteIpValve on the Engine makes a request carrying {@code X-Forwarded-For} come from that address.
 */
class StatusPageTest {

    private static final String FAR_CLIENT = "203.0.113.9";

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> {
        valve.setShutdownTimeLimit(2);
        valve.setStatusRoles("ops, auditors");
    }, embedded -> {
        embedded.getEngine().getPipeline().addValve(new RemoteIpValve());
        embedded.addUser("olga", "ops-secret");
        embedded.addRole("olga", "ops");
    }).withStatusPage();

    @Test
    void withoutAcceptTheAnswerIsTheJsonItAlwaysWasWithRequestFiguresAdded() {
        tomcat.nodeApp("plainjson", "", Map.of());
        assertEquals(200, tomcat.get("/plainjson/echo").statusCode());
        assertEquals(200, tomcat.get("/plainjson/echo").statusCode());
        HttpResponse<String> status = tomcat.get(HostingTomcat.STATUS_PATH);
        assertEquals(200, status.statusCode());
        assertEquals("application/json;charset=UTF-8", status.headers().firstValue("Content-Type").orElse(""));
        Map<?, ?> app = app(status.body(), "/plainjson");
        assertEquals("running", app.get("state"));
        assertTrue(app.get("pid") instanceof Number, status.body());
        assertEquals(2L, ((Number) app.get("requests")).longValue(), status.body());
        assertEquals(0L, ((Number) app.get("failures")).longValue(), status.body());
        assertEquals(Boolean.FALSE, app.get("offline"));
        assertEquals(null, app.get("offlineReason"));
        assertEquals("application/json;charset=UTF-8", get(HostingTomcat.STATUS_PATH, "Accept", "application/json")
                .headers().firstValue("Content-Type").orElse(""));
    }

    @Test
    void aBrowserGetsAnHtmlPageWithALinkToEachAppAndItsProcess() {
        tomcat.nodeApp("browsed", "", Map.of());
        long pid = Long.parseLong(Json.field(tomcat.get("/browsed/env").body(), "pid"));
        HttpResponse<String> page = get(HostingTomcat.STATUS_PATH, "Accept",
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        assertEquals(200, page.statusCode());
        assertEquals("text/html;charset=UTF-8", page.headers().firstValue("Content-Type").orElse(""));
        String html = page.body();
        assertTrue(html.contains("<a href=\"/browsed/\">/browsed</a>"), html);
        assertTrue(html.contains("<td>pid " + pid + "</td>"), html);
        assertTrue(html.contains(">running<"), html);
        assertTrue(html.contains("?format=prometheus"), html);
    }

    @Test
    void prometheusTextCountsRequestsFailuresAndLatencyUntilTheAsyncEnd() throws Exception {
        tomcat.nodeApp("scraped", "", Map.of());
        assertEquals(200, tomcat.get("/scraped/echo").statusCode());
        // forwarded asynchronously: the valve's handle returns at once, the answer comes 300 ms later
        assertEquals(200, tomcat.get("/scraped/slow?ms=300").statusCode());
        HttpResponse<String> scrape = get(HostingTomcat.STATUS_PATH, "Accept",
                "application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
        assertEquals("text/plain;version=0.0.4;charset=utf-8", scrape.headers().firstValue("Content-Type").orElse(""));
        Map<String, Double> m = samples(scrape.body(), "app=\"scraped\",path=\"/scraped\"");
        assertEquals(2, m.get("portico_requests_total"), scrape.body());
        assertEquals(0, m.get("portico_request_failures_total"), scrape.body());
        assertEquals(2, m.get("portico_request_duration_seconds_count"), scrape.body());
        assertEquals(2, m.get("portico_request_duration_seconds_bucket{le=\"+Inf\"}"), scrape.body());
        // the slow one ended no sooner than 300 ms after it was handed on: not in the 0.25 s bucket
        assertTrue(m.get("portico_request_duration_seconds_bucket{le=\"0.25\"}") <= 1, scrape.body());
        assertTrue(m.get("portico_request_duration_seconds_sum") >= 0.3, scrape.body());
        assertEquals(1, m.get("portico_app_up"), scrape.body());
        assertEquals(1, m.get("portico_app_starts_total"), scrape.body());
        assertTrue(scrape.body().contains("# TYPE portico_request_duration_seconds histogram\n"), scrape.body());
        assertTrue(scrape.body().contains("portico_app_info{app=\"scraped\",path=\"/scraped\",model=\"outOfProcess\",state=\"running\"} 1\n"),
                scrape.body());
        assertEquals(scrape.body(), prometheusBody(get("/portico-status?format=prometheus", "Accept", "*/*")));

        // a request still being answered is counted as handed on, not yet as ended
        CompletableFuture<HttpResponse<String>> pending = tomcat.client().sendAsync(
                HttpRequest.newBuilder(tomcat.uri("/scraped/slow?ms=4000")).build(),
                HttpResponse.BodyHandlers.ofString());
        Poll.until(Duration.ofSeconds(10), "the slow request in flight",
                () -> samples(tomcat.get("/portico-status?format=prometheus").body(),
                "app=\"scraped\",path=\"/scraped\"").get("portico_requests_in_flight") == 1);
        Map<String, Double> during = samples(tomcat.get("/portico-status?format=prometheus").body(),
                "app=\"scraped\",path=\"/scraped\"");
        assertEquals(3, during.get("portico_requests_total"));
        assertEquals(2, during.get("portico_request_duration_seconds_count"));
        assertEquals(200, pending.get().statusCode());
        Map<String, Double> after = samples(tomcat.get("/portico-status?format=prometheus").body(),
                "app=\"scraped\",path=\"/scraped\"");
        assertEquals(3, after.get("portico_request_duration_seconds_count"));
        // the 4 s one lies above the 2.5 s bound, the other two below it
        assertEquals(1, after.get("portico_request_duration_seconds_bucket{le=\"+Inf\"}")
                - after.get("portico_request_duration_seconds_bucket{le=\"2.5\"}"));
    }

    @Test
    void failedAnswersAreCountedInBothModels() throws Exception {
        tomcat.writeApp("nostart", "<portico processPath=\"./no-such-program\" startupTimeLimit=\"5\"/>");
        assertEquals(502, tomcat.get("/nostart/").statusCode());
        assertEquals(502, tomcat.get("/nostart/again").statusCode());
        Path war = Files.createDirectories(tomcat.apps().resolve(".staging-static").resolve("WEB-INF"));
        Files.writeString(war.resolve("web.xml"), "<web-app xmlns=\"https://jakarta.ee/xml/ns/jakartaee\" version=\"6.1\"/>");
        Files.writeString(war.getParent().resolve("index.html"), "static");
        Files.move(war.getParent(), tomcat.apps().resolve("static"));
        Poll.until(Duration.ofSeconds(5), "hosted", () -> tomcat.valve().getHostedApps().containsKey("/static"));
        assertEquals("static", tomcat.get("/static/index.html").body());
        assertEquals(404, tomcat.get("/static/missing.html").statusCode());

        String text = tomcat.get("/portico-status?format=prometheus").body();
        Map<String, Double> nostart = samples(text, "app=\"nostart\",path=\"/nostart\"");
        assertEquals(2, nostart.get("portico_requests_total"), text);
        assertEquals(2, nostart.get("portico_request_failures_total"), text);
        assertEquals(0, nostart.get("portico_app_up"), text);
        // the HTML page shows a crash's first line (any further lines, the process's output, folded under it)
        tomcat.nodeApp("exits", "", Map.of());
        assertEquals("crashing", tomcat.get("/exits/crash").body());
        Poll.until(Duration.ofSeconds(10), "the crash on the status page",
                () -> app(tomcat.status(), "/exits").get("lastFailure") != null);
        String lastFailure = (String) app(tomcat.status(), "/exits").get("lastFailure");
        String firstLine = lastFailure.lines().findFirst().orElseThrow();
        String html = get(HostingTomcat.STATUS_PATH, "Accept", "text/html").body();
        assertTrue(html.contains(lastFailure.contains("\n")
                ? "<details><summary>" + ErrorPage.escape(firstLine) + "</summary><pre>"
                : ErrorPage.escape(firstLine) + "</td>"), html);
        Map<String, Double> inProcess = samples(text, "app=\"static\",path=\"/static\"");
        assertEquals(2, inProcess.get("portico_requests_total"), text);
        assertEquals(0, inProcess.get("portico_request_failures_total"), text);
        assertEquals(2, inProcess.get("portico_request_duration_seconds_count"), text);
    }

    @Test
    void anUnknownFormatIsABadRequest() {
        assertEquals(400, tomcat.get("/portico-status?format=xml").statusCode());
    }

    @Test
    void farClientsNeedTheirOwnLoginWithANamedRole() {
        HttpResponse<String> anonymous = get(HostingTomcat.STATUS_PATH, "X-Forwarded-For", FAR_CLIENT);
        assertEquals(401, anonymous.statusCode());
        assertEquals("Basic realm=\"Portico status\", charset=\"UTF-8\"",
                anonymous.headers().firstValue("WWW-Authenticate").orElse(""));
        assertFalse(anonymous.body().contains("\"apps\""), anonymous.body());
        assertEquals(401, get(HostingTomcat.STATUS_PATH, "X-Forwarded-For", FAR_CLIENT, "Authorization", basic("olga", "wrong"))
                .statusCode());
        // alice is a user of the realm, but without ops or auditors
        assertEquals(403, get(HostingTomcat.STATUS_PATH, "X-Forwarded-For", FAR_CLIENT, "Authorization", basic("alice", "secret"))
                .statusCode());
        HttpResponse<String> olga = get(HostingTomcat.STATUS_PATH, "X-Forwarded-For", FAR_CLIENT, "Authorization",
                basic("olga", "ops-secret"));
        assertEquals(200, olga.statusCode());
        assertTrue(olga.body().startsWith("{\"apps\":["), olga.body());
    }

    @Test
    void withoutRolesAFarClientGetsTheHostsOrdinaryAnswer() throws Exception {
        try (HostingTomcat loopbackOnly = HostingTomcat.start(valve -> valve.setStatusPath(HostingTomcat.STATUS_PATH),
                embedded -> {
                    embedded.getEngine().getPipeline().addValve(new RemoteIpValve());
                })) {
            HttpResponse<String> far = loopbackOnly.send(HttpRequest.newBuilder(loopbackOnly.uri(HostingTomcat.STATUS_PATH))
                    .header("X-Forwarded-For", FAR_CLIENT).build());
            assertEquals(404, far.statusCode());
            assertEquals(200, loopbackOnly.get(HostingTomcat.STATUS_PATH).statusCode());
        }
    }

    // ---------------------------------------------------------------- helpers

    private static HttpResponse<String> get(String path, String... headers) {
        return tomcat.send(HttpRequest.newBuilder(tomcat.uri(path)).headers(headers).timeout(Duration.ofSeconds(30)).build());
    }

    private static String prometheusBody(HttpResponse<String> response) {
        assertEquals("text/plain;version=0.0.4;charset=utf-8", response.headers().firstValue("Content-Type").orElse(""));
        return response.body();
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static Map<?, ?> app(String json, String path) {
        List<?> apps = (List<?>) ((Map<?, ?>) Json.parse(json)).get("apps");
        return apps.stream().map(a -> (Map<?, ?>) a).filter(a -> path.equals(a.get("path"))).findFirst()
                .orElseThrow(() -> new AssertionError(json));
    }

    /**
     * The samples of one app: metric name → value, with any label beyond the app's own kept as
     * {@code name{label="v"}} (the bucket's {@code le}); the info metric's labels are dropped.
     */
    private static Map<String, Double> samples(String text, String appLabels) {
        Map<String, Double> samples = new HashMap<>();
        Pattern line = Pattern.compile("^([a-z_]+)\\{" + Pattern.quote(appLabels) + "(,[^}]*)?\\} (\\S+)$", Pattern.MULTILINE);
        Matcher matcher = line.matcher(text);
        while (matcher.find()) {
            String extra = matcher.group(2);
            String name = matcher.group(1);
            if (extra != null && !name.equals("portico_app_info")) {
                name = name + "{" + extra.substring(1) + "}";
            }
            samples.put(name, Double.parseDouble(matcher.group(3)));
        }
        return samples;
    }
}
