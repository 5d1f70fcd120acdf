package dev.portico.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.portico.integration.testapp.RequestInfoServlet;
import dev.portico.integration.testapp.ShutdownRecorder;
import dev.portico.integration.testapp.TestPorticoInitializer;

import jakarta.servlet.ServletContainerInitializer;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.spec.JavaArchive;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.portico.testsupport.HttpTestClient;
import dev.portico.testsupport.KeyValueLines;
import dev.portico.testsupport.Poll;

/**
 * The integration filter in a real (embedded, Arquillian-managed) Tomcat, exercised over HTTP as
 * Portico's forwarding side would: token enforcement, forwarded headers, principal, shutdown.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class PorticoIntegrationArquillianTest {

    private static final String TOKEN = TestPorticoInitializer.TOKEN;

    @ArquillianResource
    private URL base;
    private HttpTestClient http;

    @Deployment(testable = false)
    static WebArchive deployment() {
        // The initializer sits in a library jar as SCIs do; the integration itself comes from the
        // test classpath, i.e. the container's, as it would under the WAR runner.
        JavaArchive initializer = ShrinkWrap.create(JavaArchive.class, "test-initializer.jar")
                .addClass(TestPorticoInitializer.class)
                .addAsServiceProvider(ServletContainerInitializer.class, TestPorticoInitializer.class);
        return ShrinkWrap.create(WebArchive.class, "portico-test.war")
                .addClasses(RequestInfoServlet.class, ShutdownRecorder.class)
                .addAsLibrary(initializer);
    }

    @Test
    void requestWithoutTokenIsRejected() {
        HttpResponse<String> response = http().get("info", "X-Portico-Principal", "mallory");

        assertEquals(400, response.statusCode());
        assertEquals(PorticoFilter.REJECTION_MESSAGE, response.body().strip());
    }

    @Test
    void requestWithWrongOrDuplicatedTokenIsRejected() {
        assertEquals(400, http().get("info", "X-Portico-Token", TOKEN + "x").statusCode());
        assertEquals(400, http().get("info", "X-Portico-Token", "").statusCode());
        assertEquals(400, http().get("info", "X-Portico-Token", "forged", "X-Portico-Token", TOKEN).statusCode());
    }

    @Test
    void requestWithTokenIsSeenAsTheClientMadeIt() {
        HttpResponse<String> response = http().get("info", "X-Portico-Token", TOKEN,
                "X-Forwarded-Proto", "https", "X-Forwarded-For", "203.0.113.7",
                "X-Forwarded-Host", "shop.example.com", "X-Forwarded-Port", "443",
                "X-Forwarded-Prefix", "/portico-test", "X-Portico-Principal", "alice");

        assertEquals(200, response.statusCode(), response.body());
        Map<String, String> seen = KeyValueLines.parse(response.body());
        KeyValueLines.assertValues(seen, "scheme", "https", "secure", "true",
                "remoteAddr", "203.0.113.7", "remoteHost", "203.0.113.7",
                "serverName", "shop.example.com", "serverPort", "443",
                "requestURL", "https://shop.example.com/portico-test/info", "contextPath", "/portico-test",
                "remoteUser", "alice", "principal", "alice", "authType", "PORTICO");
        assertEquals("null", seen.get("tokenHeader"), "the token must be hidden from the app");
    }

    @Test
    void theForwardedUserIsInTheForwardedRolesOnly() {
        Map<String, String> seen = seen("X-Portico-Token", TOKEN, "X-Portico-Principal", "alice",
                "X-Portico-Roles", "user,a%2Cb");
        assertEquals("true", seen.get("inRole.user"));
        assertEquals("true", seen.get("inRole.a,b"), "a comma inside a role arrives percent-encoded");
        assertEquals("false", seen.get("inRole.admin"));

        Map<String, String> withoutUser = seen("X-Portico-Token", TOKEN, "X-Portico-Roles", "admin");
        assertEquals("null", withoutUser.get("remoteUser"));
        assertEquals("false", withoutUser.get("inRole.admin"), "roles without a user mean nothing");
    }

    @Test
    void hostPortWinsOverForwardedPortAndNonDefaultPortIsInTheUrl() {
        Map<String, String> seen = seen("X-Portico-Token", TOKEN, "X-Forwarded-Proto", "http",
                "X-Forwarded-For", "2001:db8::1", "X-Forwarded-Host", "[2001:db8::2]:8080", "X-Forwarded-Port", "80");

        KeyValueLines.assertValues(seen, "secure", "false", "remoteAddr", "2001:db8::1",
                "serverName", "[2001:db8::2]", "serverPort", "8080",
                "requestURL", "http://[2001:db8::2]:8080/portico-test/info");
        assertEquals("null", seen.get("remoteUser"), "no principal header, no user");
    }

    @Test
    void shutdownRequestIsAcceptedOnlyWithToken() {
        HttpRequest.Builder shutdown = http().request(".portico/shutdown")
                .header("X-Portico-Event", "shutdown")
                .POST(HttpRequest.BodyPublishers.noBody());
        assertEquals(400, send(shutdown).statusCode());

        HttpResponse<String> accepted = send(shutdown.copy().header("X-Portico-Token", TOKEN));

        assertEquals(202, accepted.statusCode());
        // The action runs on a thread of its own; the recorder lives in the WAR's class loader.
        Poll.until(Duration.ofSeconds(5), "the shutdown action ran", () -> "1".equals(shutdowns()));

        // Only once, however often Portico asks.
        assertEquals(202, send(shutdown.copy().header("X-Portico-Token", TOKEN)).statusCode());
        Poll.sleep(Duration.ofMillis(50));
        assertEquals("1", shutdowns());
    }

    private String shutdowns() {
        return seen("X-Portico-Token", TOKEN).get("shutdowns");
    }

    /** What the app saw of a GET /info with {@code headers} (name, value, name, value...). */
    private Map<String, String> seen(String... headers) {
        return KeyValueLines.parse(http().get("info", headers).body());
    }

    /** The deployment's client (its URL is injected into each test instance). */
    private HttpTestClient http() {
        if (http == null) {
            http = new HttpTestClient(URI.create(base.toExternalForm()), Duration.ofSeconds(10));
        }
        return http;
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        return http().send(request.build());
    }
}
