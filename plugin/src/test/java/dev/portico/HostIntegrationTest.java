package dev.portico;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.apache.catalina.valves.AccessLogValve;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;

/** How hosted apps fit into the front Host: its access log, and apps that start before any request. */
class HostIntegrationTest {

    private static Path accessLogDir;

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> valve.setShutdownTimeLimit(2), embedded -> {
        AccessLogValve accessLog = new AccessLogValve();
        accessLog.setDirectory("logs");
        accessLog.setPrefix("access");
        accessLog.setSuffix(".log");
        accessLog.setPattern("%r %s");
        accessLog.setBuffered(false);
        embedded.getHost().getPipeline().addValve(accessLog);
        accessLogDir = Path.of(embedded.getServer().getCatalinaBase().getPath(), "logs");
    }).withStatusPage();

    @Test
    void theFrontHostsAccessLogSeesRequestsOfHostedAppsInBothModels() throws Exception {
        tomcat.nodeApp("logged-oop", "", Map.of());
        Path war = Files.createDirectories(tomcat.apps().resolve(".staging-war").resolve("WEB-INF"));
        Files.writeString(war.resolve("web.xml"), "<web-app xmlns=\"https://jakarta.ee/xml/ns/jakartaee\" version=\"6.1\"/>");
        Files.writeString(war.getParent().resolve("index.html"), "static in-process");
        Files.move(war.getParent(), tomcat.apps().resolve("logged-inproc"));
        Poll.until(Duration.ofSeconds(5), "hosted", () -> tomcat.valve().getHostedApps().containsKey("/logged-inproc"));

        assertEquals(200, tomcat.get("/logged-oop/echo?a=1").statusCode());
        assertEquals("static in-process", tomcat.get("/logged-inproc/index.html").body());
        assertEquals(404, tomcat.get("/nobody/here").statusCode());

        Poll.until(Duration.ofSeconds(5), "access log lines for both models and the fall-through:\n" + accessLog(),
                () -> {
            String log = accessLog();
            return log.contains("GET /logged-oop/echo?a=1 HTTP/1.1 200")
                    && log.contains("GET /logged-inproc/index.html HTTP/1.1 200")
                    && log.contains("GET /nobody/here HTTP/1.1 404");
        });
    }

    private static String accessLog() {
        try (var files = Files.list(accessLogDir)) {
            StringBuilder all = new StringBuilder();
            for (Path file : files.filter(p -> p.getFileName().toString().startsWith("access")).toList()) {
                all.append(Files.readString(file));
            }
            return all.toString();
        } catch (java.io.IOException e) {
            return "";
        }
    }

    @Test
    void theStatusPageShowsEveryAppAndItsProcess() {
        tomcat.nodeApp("watched", "", Map.of());
        long pid = Long.parseLong(Json.field(tomcat.get("/watched/env").body(), "pid"));
        var status = tomcat.get(HostingTomcat.STATUS_PATH);
        assertEquals(200, status.statusCode());
        assertEquals("application/json;charset=UTF-8", status.headers().firstValue("Content-Type").orElse(""));
        Map<?, ?> root = (Map<?, ?>) Json.parse(status.body());
        java.util.List<?> apps = (java.util.List<?>) root.get("apps");
        Map<?, ?> watched = apps.stream().map(a -> (Map<?, ?>) a).filter(a -> "/watched".equals(a.get("path")))
                .findFirst().orElseThrow(() -> new AssertionError(status.body()));
        assertEquals("running", watched.get("state"));
        assertEquals(pid, ((Number) watched.get("pid")).longValue());
        assertEquals(Boolean.FALSE, watched.get("offline"));
        assertTrue(((Number) watched.get("starts")).intValue() >= 1);
        assertTrue(((Number) watched.get("uptimeSeconds")).longValue() >= 0, watched.toString());
    }

    @Test
    void aPreloadedAppStartsWithoutARequest() {
        tomcat.nodeApp("eager", "preloadEnabled=\"true\"", Map.of());
        Poll.until(Duration.ofSeconds(20), "eager app running before any request",
                () -> tomcat.valve().getHostedApps().get("/eager").contains("running"));
        tomcat.nodeApp("lazy", "", Map.of());
        assertTrue(tomcat.valve().getHostedApps().get("/lazy").contains("idle"),
                tomcat.valve().getHostedApps().get("/lazy"));
    }
}
