package dev.portico.arquillian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.portico.testsupport.HttpTestClient;
import dev.portico.testsupport.KeyValueLines;

/**
 * Servlet behaviour of a WAR hosted in-process through Portico, as a client sees it: the
 * deployment is a ShrinkWrap WAR that {@link PorticoEmbeddedContainer} puts in the valve's
 * appBase, and every request goes through the front connector and the valve.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class HostedServletBehaviourTest {

    @ArquillianResource
    private URL base;
    private HttpTestClient http;

    @Deployment(testable = false)
    static WebArchive deployment() {
        return TestWar.create("servlets.war");
    }

    /** The deployment's client (its URL is injected into each test instance). */
    private HttpTestClient http() {
        if (http == null) {
            http = new HttpTestClient(URI.create(base.toExternalForm()));
        }
        return http;
    }

    private HttpResponse<String> get(String relative) {
        return http().get(relative);
    }

    @Test
    void theDeploymentUrlIsTheHostedContextOnLoopback() {
        assertEquals("127.0.0.1", base.getHost());
        assertEquals("/servlets/", base.getPath());
    }

    @Test
    void filterListenerAndServletOfTheWar() throws Exception {
        HttpResponse<String> response = get("info/a%20b?x=1");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("yes", response.headers().firstValue("X-Filtered").orElse(null));
        Map<String, String> info = KeyValueLines.parse(response.body());
        KeyValueLines.assertValues(info, "contextPath", "/servlets", "requestURI", "/servlets/info/a%20b",
                "servletPath", "/info", "pathInfo", "/a b", "dispatcher", "REQUEST", "filtered", "true",
                "events", "[contextInitialized /servlets]", "hostingModel", "inProcess",
                "localPort", String.valueOf(base.getPort()));
        assertTrue(Integer.parseInt(info.get("requests")) >= 1, info.get("requests"));
        assertEquals("static file", get("static.txt").body());
    }

    @Test
    void theWarsClassesComeFromItsOwnWebInfClassesNotTheTestClasspath() throws Exception {
        Map<String, String> info = KeyValueLines.parse(get("info/loader").body());
        KeyValueLines.assertValues(info, "loader", "org.apache.catalina.loader.ParallelWebappClassLoader",
                "loaderIsContexts", "true", "loaderIsThreads", "true");
        String codeSource = info.get("codeSource");
        // the exploded app in the valve's appBase (apps/servlets/WEB-INF/classes/), or, packaged
        // as apps/servlets.war, inside that WAR — never target/test-classes
        assertTrue(codeSource.contains("/apps/servlets/WEB-INF/classes") || codeSource.contains("servlets.war"),
                codeSource);
        assertFalse(codeSource.contains("test-classes"), codeSource);
    }

    @Test
    void sessionCookieContinuity() throws Exception {
        HttpTestClient browser = http().withCookies();
        HttpResponse<String> first = browser.get("session");
        String setCookie = first.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(setCookie.startsWith("JSESSIONID="), setCookie);
        assertTrue(setCookie.contains("Path=/servlets"), setCookie);
        assertTrue(setCookie.contains("HttpOnly"), setCookie);
        assertTrue(first.body().startsWith("count=1 "), first.body());
        assertTrue(first.body().endsWith("new=true"), first.body());
        String id = first.body().split(" ")[1];

        HttpResponse<String> second = browser.get("session");
        assertEquals("count=2 " + id + " new=false", second.body());
        assertTrue(second.headers().firstValue("Set-Cookie").isEmpty());
        assertEquals("count=3 " + id + " new=false", browser.get("session").body());

        // without the cookie: a new session
        HttpResponse<String> other = get("session");
        assertTrue(other.body().startsWith("count=1 "), other.body());
        assertNotEquals(id, other.body().split(" ")[1]);
    }

    @Test
    void forward() throws Exception {
        HttpResponse<String> response = get("forward?q=1");
        assertEquals(200, response.statusCode(), response.body());
        KeyValueLines.assertValues(KeyValueLines.parse(response.body()), "dispatcher", "FORWARD",
                "requestURI", "/servlets/info/forwarded", "servletPath", "/info", "pathInfo", "/forwarded",
                "forwardRequestURI", "/servlets/forward");
    }

    @Test
    void includeOfAServletAndAJsp() throws Exception {
        HttpResponse<String> response = get("include");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("before|included INCLUDE /included from /servlets/include|jsp ctx=/servlets answer=42 appClassFromWebapp=true|after",
                response.body().replace("\r", "").replace("\n", ""));
        assertTrue(response.headers().firstValue("X-Included").isEmpty());
    }

    @Test
    void jsp() throws Exception {
        HttpResponse<String> response = get("hello.jsp");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("jsp ctx=/servlets answer=42 appClassFromWebapp=true", response.body().strip());
    }

    @Test
    void errorPages() throws Exception {
        HttpResponse<String> missing = get("nothing-here");
        assertEquals(404, missing.statusCode());
        assertEquals("error page ERROR status=404 uri=/servlets/nothing-here"
                + " message=The requested resource [/servlets/nothing-here] is not available exception=null", missing.body());

        HttpResponse<String> teapot = get("teapot");
        assertEquals(418, teapot.statusCode());
        assertEquals("error page ERROR status=418 uri=/servlets/teapot message=short and stout exception=null",
                teapot.body());

        HttpResponse<String> boom = get("boom");
        assertEquals(500, boom.statusCode());
        assertEquals("error page ERROR status=500 uri=/servlets/boom message=boom from the hosted app"
                + " exception=boom from the hosted app", boom.body());
    }

    @Test
    void asyncCompletedFromAnotherThread() throws Exception {
        HttpResponse<String> completed = get("async?mode=complete");
        assertEquals(200, completed.statusCode(), completed.body());
        assertEquals("completed on app-async started on other thread true", completed.body());
    }

    @Test
    void asyncDispatchedFromAnotherThread() throws Exception {
        HttpResponse<String> dispatched = get("async?mode=dispatch");
        assertEquals(200, dispatched.statusCode(), dispatched.body());
        KeyValueLines.assertValues(KeyValueLines.parse(dispatched.body()), "dispatcher", "ASYNC",
                "contextPath", "/servlets", "pathInfo", "/after-async");
    }

    @Test
    void multipartUpload() throws Exception {
        String boundary = "portico" + System.nanoTime();
        String file = "x".repeat(5000); // over fileSizeThreshold: written to a temp file
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\n" + file + "\r\n--" + boundary + "--\r\n";
        HttpResponse<String> response = http().send(http().request("upload")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("field=5:null:" + "value".chars().sum() + ";file=5000:a.txt:" + 5000 * 'x' + ";field=value",
                response.body());
    }

    @Test
    void aRequestTooLargeForTheMultipartConfigIsRefused() throws Exception {
        String boundary = "portico" + System.nanoTime();
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n" + "y".repeat(1_100_000) + "\r\n--" + boundary + "--\r\n";
        HttpResponse<String> response = http().send(http().request("upload")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
        // maxFileSize exceeded: getParts() throws and Tomcat answers 413 (through the app's error page)
        assertEquals(413, response.statusCode(), response.body());
        assertTrue(response.body().startsWith("error page ERROR status=500 uri=/servlets/upload"), response.body());
        assertTrue(response.body().contains("FileSizeLimitExceededException"), response.body());
    }
}
