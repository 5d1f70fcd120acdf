package dev.portico.outofprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;

/** The forwarder's connections to a backend: reused while fresh, given up before the backend would close them. */
class BackendConnectionsTest {

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> valve.setProperty("backendIdleTimeout", "300"));

    /** The port of the connection the backend got the request on. */
    private static String clientPort(String path) {
        HttpResponse<String> response = tomcat.get(path);
        assertEquals(200, response.statusCode(), response.body());
        return Json.field(response.body(), "clientPort");
    }

    /**
     * Node keeps an idle connection for 5 s; with backendIdleTimeout 300 ms a connection idle for
     * 600 ms is not written to again (had the backend's own clock been that short, a request on it
     * could have been lost), while one used a moment ago is.
     */
    @Test
    void aConnectionIdleForLongerThanBackendIdleTimeoutIsNotReused() throws Exception {
        tomcat.nodeApp("pooled", "", Map.of());
        Set<String> used = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            used.add(clientPort("/pooled/env"));
        }
        assertTrue(used.size() < 5, "requests a moment apart reuse a connection: " + used);
        Thread.sleep(600);
        String after = clientPort("/pooled/env");
        assertFalse(used.contains(after), "a connection idle for 600 ms was reused: " + after + " in " + used);
    }
}
