package dev.portico.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

import org.apache.catalina.Context;
import org.apache.catalina.WebResourceRoot;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.webresources.DirResourceSet;
import org.apache.catalina.webresources.StandardRoot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every endpoint of the sample once, over HTTP, in an embedded Tomcat serving src/main/webapp with
 * target/classes as WEB-INF/classes (the WAR is not packaged yet when tests run).
 */
class SampleServletsTest {

    @TempDir
    static Path baseDir;
    private static Tomcat tomcat;
    private static String base;
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .cookieHandler(new java.net.CookieManager())
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void startTomcat() throws Exception {
        tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        Files.createDirectories(baseDir.resolve("webapps"));
        Connector connector = new Connector("HTTP/1.1");
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);

        Context context = tomcat.addWebapp("/sample", Path.of("src/main/webapp").toAbsolutePath().toString());
        WebResourceRoot resources = new StandardRoot(context);
        resources.addPreResources(new DirResourceSet(resources, "/WEB-INF/classes",
                Path.of("target/classes").toAbsolutePath().toString(), "/"));
        context.setResources(resources);
        // As an in-process host would configure it: crashing must then be refused.
        context.addParameter("portico.hostingModel", "inProcess");
        context.addParameter("PORTICO_SAMPLE_ALLOW_CRASH", "true");
        context.addParameter("SAMPLE_GREETING", "hello");

        tomcat.start();
        base = "http://127.0.0.1:" + connector.getLocalPort() + "/sample";
    }

    @AfterAll
    static void stopTomcat() throws Exception {
        tomcat.stop();
        tomcat.destroy();
    }

    @Test
    void infoShowsRequestHostingAndRequestedSettings() throws Exception {
        String root = get("/").body();
        assertTrue(root.contains("\"contextPath\":\"/sample\""), root);

        HttpResponse<String> info = get("/info?env=SAMPLE_GREETING,PATH,PORTICO_TOKEN,NOT_SET_ANYWHERE");
        assertEquals(200, info.statusCode());
        String body = info.body();
        assertTrue(body.startsWith("{\"scheme\":\"http\",\"secure\":false,\"remoteAddr\":\"127.0.0.1\""), body);
        assertTrue(body.contains("\"requestURI\":\"/sample/info\""), body);
        assertTrue(body.contains("\"principal\":null"), body);
        assertTrue(body.contains("\"hostingModel\":\"inProcess\""), body);
        assertTrue(body.contains("\"pid\":" + ProcessHandle.current().pid()), body);
        assertTrue(body.contains("\"SAMPLE_GREETING\":\"hello\""), body);
        assertTrue(body.contains("\"PATH\":\"" + System.getenv("PATH")), body);
        assertTrue(body.contains("\"PORTICO_TOKEN\":null,\"NOT_SET_ANYWHERE\":null"), body);
    }

    @Test
    void aBrowserAtTheRootGetsTheWelcomePageAndScriptsKeepTheJson() throws Exception {
        HttpResponse<String> page = send(HttpRequest.newBuilder(uri("/"))
                .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"));
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), page.headers().toString());
        assertTrue(page.body().contains("<title>Portico sample</title>"), page.body());
        assertTrue(page.body().contains("new EventSource('sse?"), page.body());
        assertTrue(page.body().contains("'ws/echo'"), page.body());
        assertTrue(get("/").body().startsWith("{\"scheme\""), "without Accept: text/html, JSON as before");
        assertTrue(send(HttpRequest.newBuilder(uri("/info")).header("Accept", "text/html")).body().startsWith("{"),
                "only the root turns into the page");
    }

    @Test
    void echoReportsMethodQueryHeadersAndBodyDigest() throws Exception {
        byte[] payload = "portico".repeat(10_000).getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> echo = send(HttpRequest.newBuilder(uri("/echo?a=1&b=2"))
                .header("X-Test", "yes")
                .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(payload)));

        String body = echo.body();
        assertEquals(200, echo.statusCode());
        assertTrue(body.contains("\"method\":\"PATCH\",\"queryString\":\"a=1&b=2\""), body);
        assertTrue(body.contains("\"X-Test\":[\"yes\"]"), body);
        assertTrue(body.contains("\"bodyLength\":" + payload.length), body);
        assertTrue(body.contains("\"bodySha256\":\"" + sha256(payload) + "\""), body);
    }

    @Test
    void sseSendsTheRequestedEvents() throws Exception {
        HttpResponse<String> sse = get("/sse?count=3&intervalMs=10");

        assertEquals("text/event-stream;charset=UTF-8", sse.headers().firstValue("Content-Type").orElseThrow());
        assertEquals("data: 1\n\ndata: 2\n\ndata: 3\n\n", sse.body());
    }

    @Test
    void slowWaitsAndDownloadStreamsThePattern() throws Exception {
        long start = System.nanoTime();
        assertEquals("{\"sleptMs\":200}", get("/slow?ms=200").body().strip());
        assertTrue(System.nanoTime() - start >= Duration.ofMillis(200).toNanos());

        HttpResponse<byte[]> download = CLIENT.send(HttpRequest.newBuilder(uri("/download?bytes=100000")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals("100000", download.headers().firstValue("Content-Length").orElseThrow());
        assertArrayEquals(DownloadServlet.pattern(100_000), download.body());
    }

    @Test
    void uploadDescribesEachPart() throws Exception {
        byte[] file = DownloadServlet.pattern(50_000);
        String boundary = "portico-boundary-1234";
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\nhi\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.bin\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(file);
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));

        HttpResponse<String> upload = send(HttpRequest.newBuilder(uri("/upload"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));

        assertEquals(200, upload.statusCode(), upload.body());
        assertEquals("{\"parts\":["
                + "{\"name\":\"comment\",\"filename\":null,\"size\":2,\"sha256\":\"" + sha256("hi".getBytes()) + "\"},"
                + "{\"name\":\"file\",\"filename\":\"data.bin\",\"size\":50000,\"sha256\":\"" + sha256(file) + "\"}]}",
                upload.body().strip());
    }

    @Test
    void crashIsRefusedInProcessAndForGet() throws Exception {
        HttpResponse<String> crash = send(HttpRequest.newBuilder(uri("/crash"))
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertEquals(403, crash.statusCode(), crash.body());
        assertEquals(405, get("/crash").statusCode());
    }

    @Test
    void sessionCountsPerSession() throws Exception {
        String first = get("/session").body();
        String second = get("/session").body();

        assertTrue(first.startsWith("{\"count\":1,\"sessionId\":\""), first);
        assertTrue(second.startsWith("{\"count\":2,\"sessionId\":\""), second);
        assertEquals(first.substring(first.indexOf("sessionId")), second.substring(second.indexOf("sessionId")));
    }

    @Test
    void jspSaysHello() throws Exception {
        HttpResponse<String> jsp = get("/hello.jsp");

        assertEquals(200, jsp.statusCode(), jsp.body());
        assertEquals(List.of("Hello from JSP", "contextPath=/sample"), jsp.body().strip().lines().toList());
    }

    private static URI uri(String path) {
        return URI.create(base + path);
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)));
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return CLIENT.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
