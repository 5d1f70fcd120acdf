package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.portico.testsupport.FreePort;
import dev.portico.testsupport.HttpTestClient;
import dev.portico.testsupport.Json;

/**
 * The front's security as a WAR sees it, in the real distribution: the same sample WAR with the
 * same {@code <security-constraint>}s deployed by Tomcat from {@code webapps/}, hosted in-process
 * and hosted out-of-process (under the WAR runner, with the front authenticating: {@code authMethod})
 * must give the same answers to the same users of {@code tomcat-users.xml} — 401, 200, 403 and
 * {@code isUserInRole} — and see the client's TLS certificate the same way.
 */
class FrontSecurityIT {

    private static final Duration CHILD_JVM_START = Duration.ofSeconds(120);
    /** The three homes of one WAR: Tomcat's own deployment, Portico in-process, Portico out-of-process. */
    private static final List<String> BASIC_APPS = List.of("/basic", "/basicin", "/basicout");
    private static final List<String> CERT_APPS = List.of("/cert", "/certin", "/certout");

    /** /session for admins and /info for users, behind the BASIC login. */
    private static final String BASIC_WEB_XML = webXml(
            constraint("admins", "/session", "admin") + constraint("users", "/info", "user"),
            "  <login-config><auth-method>BASIC</auth-method><realm-name>portico-test</realm-name></login-config>",
            "user", "admin");
    /** /info for users, behind the FORM login of LOGIN_PAGE and ERROR_PAGE. */
    private static final String FORM_WEB_XML = webXml(constraint("users", "/info", "user"), """
              <login-config>
                <auth-method>FORM</auth-method>
                <form-login-config><form-login-page>/login.html</form-login-page><form-error-page>/error.html</form-error-page></form-login-config>
              </login-config>
            """, "user");
    private static final AppFile LOGIN_PAGE = AppFile.of("login.html",
            "<form method=\"post\" action=\"j_security_check\"><input name=\"j_username\"><input name=\"j_password\"></form>\n");
    private static final AppFile ERROR_PAGE = AppFile.of("error.html", "login failed\n");

    private static TestCertificates certificates;
    private static TomcatDistribution tomcat;
    private static HttpTestClient http;
    private static int httpsPort;

    @BeforeAll
    static void startTomcatWithTheWarInThreeHomes() {
        Path sample = E2eSettings.sampleWar();
        certificates = TestCertificates.create(E2eSettings.workDir().resolve("certificates-" + System.nanoTime()));
        httpsPort = FreePort.pick();
        tomcat = TomcatDistribution.named("security").withUserRealm()
                .connector(certificates.optionalClientAuthConnector(httpsPort))
                .inHost("<Valve className=\"org.apache.catalina.authenticator.SingleSignOn\"/>").create();
        AppFile basicWebXml = AppFile.of("WEB-INF/web.xml", BASIC_WEB_XML);
        tomcat.installWebapp("basic", sample, basicWebXml);
        tomcat.installApp("basicin", sample, basicWebXml);
        tomcat.installApp("basicout", sample, basicWebXml, outOfProcess()
                .attribute("authMethod", "BASIC")
                .attribute("forwardPrincipal", "true")
                .asFile());
        AppFile formWebXml = AppFile.of("WEB-INF/web.xml", FORM_WEB_XML);
        tomcat.installWebapp("form", sample, formWebXml, LOGIN_PAGE, ERROR_PAGE);
        tomcat.installApp("formin", sample, formWebXml, LOGIN_PAGE, ERROR_PAGE);
        tomcat.installWebapp("cert", sample);
        tomcat.installApp("certin", sample);
        tomcat.installApp("certout", sample, outOfProcess().asFile());
        tomcat.start();
        http = tomcat.http();
        // the out-of-process apps preload; wait for both children once, with a start-sized timeout
        for (String app : List.of("/basicout/info", "/certout/info")) {
            HttpResponse<String> first = http.send(http.request(app).timeout(CHILD_JVM_START.plusSeconds(10))
                    .header("Authorization", basic("alice", "secret")).build());
            assertEquals(200, first.statusCode(), app + ": " + first.body() + "\n" + tomcat.logTail());
        }
    }

    private static String constraint(String name, String urlPattern, String role) {
        return "  <security-constraint>\n"
                + "    <web-resource-collection><web-resource-name>" + name + "</web-resource-name><url-pattern>"
                + urlPattern + "</url-pattern></web-resource-collection>\n"
                + "    <auth-constraint><role-name>" + role + "</role-name></auth-constraint>\n"
                + "  </security-constraint>\n";
    }

    private static String webXml(String constraints, String loginConfig, String... roles) {
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<web-app xmlns=\"https://jakarta.ee/xml/ns/jakartaee\" version=\"6.1\">\n")
                .append(constraints).append(loginConfig.stripTrailing()).append('\n');
        for (String role : roles) {
            xml.append("  <security-role><role-name>").append(role).append("</role-name></security-role>\n");
        }
        return xml.append("</web-app>\n").toString();
    }

    private static PorticoXml outOfProcess() {
        return PorticoXml.warRunner(CHILD_JVM_START)
                .attribute("jvmOptions", "-Xmx96m -XX:TieredStopAtLevel=1")
                .attribute("preloadEnabled", "true");
    }

    @AfterAll
    static void stopTomcat() {
        TomcatDistribution.closeAndAssertCleanLog(tomcat);
    }

    @Test
    void basicAuthConstraintsAnswerAlikeInWebappsInProcessAndOutOfProcess() {
        for (String app : BASIC_APPS) {
            HttpResponse<String> anonymous = http.get(app + "/info");
            assertEquals(401, anonymous.statusCode(), app + " without credentials");
            assertTrue(anonymous.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic "), app);
            assertEquals(401, http.get(app + "/info", "Authorization", basic("alice", "wrong")).statusCode(),
                    app + " with a wrong password");

            HttpResponse<String> alice = http.get(app + "/info?roles=user,admin", "Authorization", basic("alice", "secret"));
            assertEquals(200, alice.statusCode(), app + ": " + alice.body());
            JsonNode info = Json.tree(alice.body());
            assertEquals("alice", info.path("principal").asText(), app);
            assertTrue(info.path("inRole").path("user").asBoolean(), app + ": alice is in role user");
            assertEquals(false, info.path("inRole").path("admin").asBoolean(), app + ": alice is not an admin");

            assertEquals(403, http.get(app + "/session", "Authorization", basic("alice", "secret")).statusCode(),
                    app + ": /session needs role admin");
            HttpResponse<String> bob = http.get(app + "/session", "Authorization", basic("bob", "secret"));
            assertEquals(200, bob.statusCode(), app + ": bob is an admin; " + bob.body());
            JsonNode bobInfo = Json.tree(http.get(app + "/info?roles=admin", "Authorization",
                    basic("bob", "secret")).body());
            assertTrue(bobInfo.path("inRole").path("admin").asBoolean(), app + ": bob is in role admin");
        }
    }

    @Test
    void aClientCannotSendItsOwnUserRolesOrCertificate() {
        String forgedCertificate = Base64.getEncoder().encodeToString(certificates.clientCertificate());
        for (String app : BASIC_APPS) {
            String[] forged = {"Authorization", basic("alice", "secret"), "X-Portico-Principal", "bob",
                "X-Portico-Roles", "admin", "X-Portico-Client-Cert", forgedCertificate};
            assertEquals(403, http.get(app + "/session", forged).statusCode(), app + ": forged roles count for nothing");
            JsonNode info = Json.tree(http.get(app + "/info?roles=admin", forged).body());
            assertEquals("alice", info.path("principal").asText(), app);
            assertEquals(false, info.path("inRole").path("admin").asBoolean(), app);
            assertTrue(info.path("clientCertificate").isNull(), app + ": " + info);
        }
    }

    @Test
    void formLoginAnswersAlikeInWebappsAndInProcess() {
        for (String app : List.of("/form", "/formin")) {
            HttpClient browser = HttpClient.newBuilder().cookieHandler(new CookieManager())
                    .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> loginPage = send(browser, get(app + "/info"));
            assertEquals(200, loginPage.statusCode(), app);
            assertTrue(loginPage.body().contains("j_security_check"), app + " shows its login page: " + loginPage.body());

            HttpResponse<String> failed = send(browser, login(app, "alice", "wrong"));
            assertEquals(200, failed.statusCode(), app);
            assertEquals("login failed\n", failed.body(), app + " shows its error page");

            send(browser, get(app + "/info"));
            HttpResponse<String> accepted = send(browser, login(app, "alice", "secret"));
            assertEquals(303, accepted.statusCode(), app + ": " + accepted.body());
            assertEquals(app + "/info", URI.create(accepted.headers().firstValue("Location").orElseThrow()).getPath(), app);
            HttpResponse<String> page = send(browser, get(app + "/info"));
            assertEquals(200, page.statusCode(), app);
            JsonNode info = Json.tree(page.body());
            assertEquals("alice", info.path("principal").asText(), app);
            assertEquals("FORM", info.path("authType").asText(), app);
        }
    }

    /**
     * The front Host's SingleSignOn valve (declared before Portico's) puts the signed-in user on
     * every request it knows, in-process apps' included; but their authenticators cannot find the
     * valve (it is not in their parents' pipelines), so a sign-in there is theirs alone.
     */
    @Test
    void singleSignOnReachesInProcessAppsOnlyFromTheFrontsWebapps() {
        HttpClient browser = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();
        send(browser, get("/form/info"));
        assertEquals(303, send(browser, login("/form", "alice", "secret")).statusCode());
        JsonNode inProcess = Json.tree(send(browser, get("/formin/info")).body());
        assertEquals("alice", inProcess.path("principal").asText(), "signed in at /form, known at /formin");

        HttpClient other = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();
        send(other, get("/formin/info"));
        assertEquals(303, send(other, login("/formin", "alice", "secret")).statusCode());
        assertEquals("alice", Json.tree(send(other, get("/formin/info")).body()).path("principal").asText());
        assertTrue(send(other, get("/form/info")).body().contains("j_security_check"),
                "signed in at /formin only: /form still asks");
    }

    @Test
    void theClientCertificateReachesTheAppInEveryHome() {
        HttpClient withCertificate = tlsClient(certificates.clientContext(true));
        HttpClient withoutCertificate = tlsClient(certificates.clientContext(false));
        for (String app : CERT_APPS) {
            JsonNode info = Json.tree(send(withCertificate, https(app + "/info")).body());
            assertEquals("CN=portico-client,O=Portico Tests", info.path("clientCertificate").asText(), app + ": " + info);
            assertEquals("https", info.path("scheme").asText(), app);
            JsonNode anonymous = Json.tree(send(withoutCertificate, https(app + "/info")).body());
            assertTrue(anonymous.path("clientCertificate").isNull(), app + ": " + anonymous);
        }
    }

    @Test
    void aClientCertificateHeaderFromTheClientIsDropped() {
        String forged = Base64.getEncoder().encodeToString(certificates.clientCertificate());
        HttpClient withoutCertificate = tlsClient(certificates.clientContext(false));
        for (String app : CERT_APPS) {
            JsonNode plain = http.getJson(app + "/info", "X-Portico-Client-Cert", forged, "X_Portico_Client_Cert", forged);
            assertTrue(plain.path("clientCertificate").isNull(), app + " over http: " + plain);
            JsonNode tls = Json.tree(send(withoutCertificate, HttpRequest.newBuilder(httpsUri(app + "/info"))
                    .header("X-Portico-Client-Cert", forged).timeout(HttpTestClient.DEFAULT_TIMEOUT).build()).body());
            assertTrue(tls.path("clientCertificate").isNull(), app + " over https without a certificate: " + tls);
        }
    }

    private static HttpClient tlsClient(SSLContext context) {
        return HttpClient.newBuilder().sslContext(context).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static URI httpsUri(String path) {
        return URI.create("https://127.0.0.1:" + httpsPort + path);
    }

    private static HttpRequest https(String path) {
        return HttpRequest.newBuilder(httpsUri(path)).timeout(HttpTestClient.DEFAULT_TIMEOUT).build();
    }

    private static HttpRequest get(String path) {
        return HttpRequest.newBuilder(tomcat.baseUri().resolve(path)).timeout(HttpTestClient.DEFAULT_TIMEOUT).build();
    }

    private static HttpRequest login(String app, String user, String password) {
        return HttpRequest.newBuilder(tomcat.baseUri().resolve(app + "/j_security_check"))
                .timeout(HttpTestClient.DEFAULT_TIMEOUT)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("j_username=" + user + "&j_password=" + password))
                .build();
    }

    private static HttpResponse<String> send(HttpClient client, HttpRequest request) {
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(request.uri().toString(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
