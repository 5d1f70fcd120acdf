package dev.portico.outofprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;

/** Tomcat's stop: in-flight requests finish, then every backend process is gone. */
class TomcatStopTest {

    @Test
    void stoppingTomcatDrainsInFlightRequestsThenStopsEveryBackend() throws Exception {
        try (HostingTomcat tomcat = HostingTomcat.start(valve -> valve.setShutdownTimeLimit(5))) {
            tomcat.nodeApp("busy", "", Map.of());
            tomcat.nodeApp("idle", "", Map.of());
            long busy = Long.parseLong(Json.field(tomcat.get("/busy/env").body(), "pid"));
            long idle = Long.parseLong(Json.field(tomcat.get("/idle/env").body(), "pid"));

            CompletableFuture<HttpResponse<String>> inFlight = tomcat.client().sendAsync(
                    HttpRequest.newBuilder(tomcat.uri("/busy/slow?ms=1500")).build(), HttpResponse.BodyHandlers.ofString());
            Poll.until(Duration.ofSeconds(1), "hosted", () -> tomcat.valve().getHostedApps().get("/busy") != null);
            Thread.sleep(300); // let the slow request reach the backend
            tomcat.stop();

            HttpResponse<String> response = inFlight.get();
            assertEquals(200, response.statusCode());
            assertEquals("slow done", response.body());
            assertFalse(ProcessHandle.of(busy).map(ProcessHandle::isAlive).orElse(false), "busy backend stopped");
            assertFalse(ProcessHandle.of(idle).map(ProcessHandle::isAlive).orElse(false), "idle backend stopped");
        }
    }
}
