package dev.portico.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portico.integration.testapp.RequestInfoServlet;
import dev.portico.integration.testapp.ShutdownRecorder;
import dev.portico.integration.testapp.TestPorticoInitializer;

import jakarta.servlet.ServletContainerInitializer;

import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.spec.JavaArchive;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The integration filter in a real (embedded, Arquillian-managed) Tomcat, exercised over HTTP as
 * Portico's forwarding side would: token enforcement, forwarded headers, principal, shutdown.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class PorticoIntegrationArquillianTest {

    private static final String TOKEN = TestPorticoInitializer.TOKEN;

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @ArquillianResource
    private URL base;

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
    void requestWithoutTokenIsRejected() throws Exception {
        HttpResponse<String> response = send(request("info").header("X-Portico-Principal", "mallory"));

        assertEquals(400, response.statusCode());
        assertEquals(PorticoFilter.REJECTION_MESSAGE, response.body().strip());
    }

    @Test
    void requestWithWrongOrDuplicatedTokenIsRejected() throws Exception {
        assertEquals(400, send(request("info").header("X-Portico-Token", TOKEN + "x")).statusCode());
        assertEquals(400, send(request("info").header("X-Portico-Token", "")).statusCode());
        assertEquals(400, send(request("info")
                .header("X-Portico-Token", "forged")
                .header("X-Portico-Token", TOKEN)).statusCode());
    }

    @Test
    void requestWithTokenIsSeenAsTheClientMadeIt() throws Exception {
        HttpResponse<String> response = send(request("info")
                .header("X-Portico-Token", TOKEN)
                .header("X-Forwarded-Proto", "https")
                .header("X-Forwarded-For", "203.0.113.7")
                .header("X-Forwarded-Host", "shop.example.com")
                .header("X-Forwarded-Port", "443")
                .header("X-Forwarded-Prefix", "/portico-test")
                .header("X-Portico-Principal", "alice"));

        assertEquals(200, response.statusCode(), response.body());
        Map<String, String> seen = parse(response.body());
        assertEquals("https", seen.get("scheme"));
        assertEquals("true", seen.get("secure"));
        assertEquals("203.0.113.7", seen.get("remoteAddr"));
        assertEquals("203.0.113.7", seen.get("remoteHost"));
        assertEquals("shop.example.com", seen.get("serverName"));
        assertEquals("443", seen.get("serverPort"));
        assertEquals("https://shop.example.com/portico-test/info", seen.get("requestURL"));
        assertEquals("/portico-test", seen.get("contextPath"));
        assertEquals("alice", seen.get("remoteUser"));
        assertEquals("alice", seen.get("principal"));
        assertEquals("PORTICO", seen.get("authType"));
        assertEquals("null", seen.get("tokenHeader"), "the token must be hidden from the app");
    }

    @Test
    void theForwardedUserIsInTheForwardedRolesOnly() throws Exception {
        Map<String, String> seen = parse(send(request("info")
                .header("X-Portico-Token", TOKEN)
                .header("X-Portico-Principal", "alice")
                .header("X-Portico-Roles", "user,a%2Cb")).body());
        assertEquals("true", seen.get("inRole.user"));
        assertEquals("true", seen.get("inRole.a,b"), "a comma inside a role arrives percent-encoded");
        assertEquals("false", seen.get("inRole.admin"));

        Map<String, String> withoutUser = parse(send(request("info")
                .header("X-Portico-Token", TOKEN)
                .header("X-Portico-Roles", "admin")).body());
        assertEquals("null", withoutUser.get("remoteUser"));
        assertEquals("false", withoutUser.get("inRole.admin"), "roles without a user mean nothing");
    }

    @Test
    void hostPortWinsOverForwardedPortAndNonDefaultPortIsInTheUrl() throws Exception {
        Map<String, String> seen = parse(send(request("info")
                .header("X-Portico-Token", TOKEN)
                .header("X-Forwarded-Proto", "http")
                .header("X-Forwarded-For", "2001:db8::1")
                .header("X-Forwarded-Host", "[2001:db8::2]:8080")
                .header("X-Forwarded-Port", "80")).body());

        assertEquals("false", seen.get("secure"));
        assertEquals("2001:db8::1", seen.get("remoteAddr"));
        assertEquals("[2001:db8::2]", seen.get("serverName"));
        assertEquals("8080", seen.get("serverPort"));
        assertEquals("http://[2001:db8::2]:8080/portico-test/info", seen.get("requestURL"));
        assertEquals("null", seen.get("remoteUser"), "no principal header, no user");
    }

    @Test
    void shutdownRequestIsAcceptedOnlyWithToken() throws Exception {
        HttpRequest.Builder shutdown = request(".portico/shutdown")
                .header("X-Portico-Event", "shutdown")
                .POST(HttpRequest.BodyPublishers.noBody());
        assertEquals(400, send(shutdown).statusCode());

        HttpResponse<String> accepted = send(shutdown.copy().header("X-Portico-Token", TOKEN));

        assertEquals(202, accepted.statusCode());
        // The action runs on a thread of its own; the recorder lives in the WAR's class loader.
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        String shutdowns;
        do {
            shutdowns = parse(send(request("info").header("X-Portico-Token", TOKEN)).body())
                    .get("shutdowns");
        } while (!"1".equals(shutdowns) && System.nanoTime() < deadline && pause());
        assertEquals("1", shutdowns);

        // Only once, however often Portico asks.
        assertEquals(202, send(shutdown.copy().header("X-Portico-Token", TOKEN)).statusCode());
        assertTrue(pause());
        assertEquals("1", parse(send(request("info").header("X-Portico-Token", TOKEN)).body())
                .get("shutdowns"));
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base.toExternalForm()).resolve(path))
                .timeout(Duration.ofSeconds(10));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Map<String, String> parse(String body) {
        return Arrays.stream(body.split("\\R"))
                .filter(line -> line.contains("="))
                .collect(Collectors.toMap(line -> line.substring(0, line.indexOf('=')),
                        line -> line.substring(line.indexOf('=') + 1)));
    }

    private static boolean pause() throws InterruptedException {
        Thread.sleep(50);
        return true;
    }
}
