package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.portico.testsupport.HttpTestClient;
import dev.portico.testsupport.Poll;

/**
 * What an operator of the real distribution sees and does: the PorticoApp MBeans through the
 * Manager webapp's {@code /manager/jmxproxy/} (as user ops in role manager-jmx), their
 * operations' effect on the apps, and the status page in its three forms.
 */
class OperatorViewIT {

    private static final String SHOP = "Catalina:type=PorticoApp,host=localhost,name=/shop";
    private static final String PAGES = "Catalina:type=PorticoApp,host=localhost,name=/pages";
    private static TomcatDistribution tomcat;
    private static HttpTestClient http;

    @BeforeAll
    static void startTomcat() {
        tomcat = TomcatDistribution.named("operator").withManager()
                .valveAttribute("statusPath", "/portico-status").create();
        tomcat.writeApp("shop", PorticoXml.nodeBackend().asFile());
        tomcat.installApp("pages", E2eSettings.sampleWar());
        tomcat.start();
        http = tomcat.http();
    }

    @AfterAll
    static void stopTomcat() {
        TomcatDistribution.closeAndAssertCleanLog(tomcat);
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static HttpResponse<String> jmxproxy(String query) {
        return http.get("/manager/jmxproxy/?" + query, "Authorization", basic("ops", "ops-secret"));
    }

    private static String get(String bean, String attribute) {
        HttpResponse<String> response = jmxproxy("get=" + encode(bean) + "&att=" + attribute);
        assertEquals(200, response.statusCode(), response.body());
        String prefix = "OK - Attribute get '" + bean + "' - " + attribute + " = ";
        assertTrue(response.body().startsWith(prefix), response.body());
        return response.body().substring(prefix.length()).trim();
    }

    private static String invoke(String bean, String operation) {
        HttpResponse<String> response = jmxproxy("invoke=" + encode(bean) + "&op=" + operation);
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.body().startsWith("OK - Operation " + operation + " returned:"), response.body());
        return response.body();
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }

    private static long pidOf(String path) {
        return http.getJson(path + "/env").path("pid").asLong();
    }

    @Test
    void jmxproxyShowsEveryAppAndItsFiguresAndOnlyToAManagerJmxUser() {
        HttpResponse<String> query = jmxproxy("qry=" + encode("Catalina:type=PorticoApp,*"));
        assertEquals(200, query.statusCode(), query.body());
        java.util.List<String> listing = query.body().lines().toList();
        assertTrue(listing.contains("Name: " + SHOP), query.body());
        assertTrue(listing.contains("Name: " + PAGES), query.body());
        assertTrue(listing.contains("model: outOfProcess"), query.body());
        assertTrue(listing.contains("model: inProcess"), query.body());

        assertEquals("/portico-status", get("Catalina:type=Valve,host=localhost,name=PorticoValve", "statusPath"));

        assertEquals(401, http.get("/manager/jmxproxy/?qry=" + encode("Catalina:type=PorticoApp,*")).statusCode());
        assertEquals(403, http.get("/manager/jmxproxy/?qry=" + encode("Catalina:type=PorticoApp,*"),
                "Authorization", basic("alice", "secret")).statusCode());
    }

    @Test
    void jmxproxyStartsTakesOfflineBringsBackAndRecyclesAnApp() {
        assertTrue(invoke(SHOP, "start").contains("START of app [shop] requested"));
        Poll.until(Duration.ofSeconds(20), "shop started over JMX", () -> get(SHOP, "state").equals("running"));
        long pid = Long.parseLong(get(SHOP, "pids"));
        assertEquals(pid, pidOf("/shop"), "the process started over JMX serves the first request");
        assertEquals("1", get(SHOP, "requests"));
        assertTrue(Long.parseLong(get(SHOP, "uptime")) >= 0);

        invoke(SHOP, "takeOffline");
        Poll.until(Duration.ofSeconds(5), "shop offline", () -> http.get("/shop/env").statusCode() == 503);
        assertEquals("operator", get(SHOP, "offlineReason"));
        Poll.until(Duration.ofSeconds(15), "shop's process stopped while offline", 
                () -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        invoke(SHOP, "bringOnline");
        Poll.until(Duration.ofSeconds(20), "shop online again", () -> http.get("/shop/env").statusCode() == 200);
        long second = pidOf("/shop");
        assertNotEquals(pid, second);

        invoke(SHOP, "recycle");
        Poll.until(Duration.ofSeconds(15), "the recycled generation's process gone", 
                () -> !ProcessHandle.of(second).map(ProcessHandle::isAlive).orElse(false));
        assertNotEquals(second, pidOf("/shop"));
        assertTrue(tomcat.log().contains("Portico app [shop] is recycled at an operator's request"), tomcat.logTail());
    }

    @Test
    void anInProcessAppIsStoppedAndStartedOverJmx() {
        assertEquals(200, http.get("/pages/info").statusCode());
        assertEquals("running", get(PAGES, "state"));
        invoke(PAGES, "stop");
        Poll.until(Duration.ofSeconds(15), "pages stopped", () -> get(PAGES, "state").equals("idle"));
        invoke(PAGES, "start");
        Poll.until(Duration.ofSeconds(15), "pages started", () -> get(PAGES, "state").equals("running"));
        assertEquals("inProcess", http.getJson("/pages/info").path("hostingModel").asText());
    }

    @Test
    void theStatusPageAnswersABrowserAScriptAndAScraper() {
        assertEquals(200, http.get("/pages/info").statusCode());
        HttpResponse<String> html = http.get("/portico-status", "Accept", "text/html,*/*;q=0.8");
        assertEquals("text/html;charset=UTF-8", html.headers().firstValue("Content-Type").orElse(""));
        assertTrue(html.body().contains("<a href=\"/shop/\">/shop</a>"), html.body());
        assertTrue(html.body().contains("<a href=\"/pages/\">/pages</a>"), html.body());

        assertEquals("pages", http.getJson("/portico-status").path("apps").findValues("name").stream()
                .map(n -> n.asText()).filter("pages"::equals).findFirst().orElse(""));

        HttpResponse<String> text = http.get("/portico-status?format=prometheus");
        Matcher requests = Pattern.compile("^portico_requests_total\\{app=\"pages\",path=\"/pages\"\\} (\\d+)$",
                Pattern.MULTILINE).matcher(text.body());
        assertTrue(requests.find(), text.body());
        assertTrue(Long.parseLong(requests.group(1)) >= 1, text.body());
        assertTrue(text.body().contains("portico_request_duration_seconds_bucket{app=\"pages\",path=\"/pages\",le=\"+Inf\"}"),
                text.body());
        assertFalse(text.body().contains("NaN"), text.body());
    }
}
