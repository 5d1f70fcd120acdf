package dev.portico.inprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;

/**
 * The real sample WAR (annotated servlets in WEB-INF/classes, a JSP) hosted in-process, once
 * exploded and once as a packed .war file served from the archive.
 */
class SampleWarInProcessTest {

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> valve.setStartupTimeLimit(60), t -> t.enableNaming());

    @BeforeAll
    static void start() throws Exception {
        tomcat.deploySample("exploded", null);
        zip(HostingTomcat.SAMPLE_WAR, tomcat.apps().resolve(".packed"));
        Files.move(tomcat.apps().resolve(".packed"), tomcat.apps().resolve("packed.war"));
        tomcat.awaitHosted("packed");
    }

    @Test
    void explodedSample() {
        checkSample("/exploded");
    }

    @Test
    void packedSample() {
        checkSample("/packed");
        // served from the archive: nothing unpacked next to it
        assertTrue(!Files.exists(tomcat.apps().resolve("packed")));
    }

    private static void checkSample(String path) {
        HttpResponse<String> info = tomcat.get(path + "/info");
        assertEquals(200, info.statusCode(), info.body());
        assertEquals("inProcess", Json.field(info.body(), "hostingModel"));
        assertEquals(path, Json.field(info.body(), "contextPath"));
        assertEquals(String.valueOf(ProcessHandle.current().pid()), Json.field(info.body(), "pid"));
        // the sample maps "" (the context root itself), so there is no /app → /app/ redirect here
        assertEquals(200, tomcat.get(path).statusCode());
        assertEquals(200, tomcat.get(path + "/").statusCode());
        String jsp = tomcat.get(path + "/hello.jsp").body();
        assertTrue(jsp.contains("Hello from JSP") && jsp.contains("contextPath=" + path), jsp);
        HttpResponse<String> first = tomcat.get(path + "/session");
        String cookie = first.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
        assertEquals("2", Json.field(tomcat.send(HttpRequest.newBuilder(tomcat.uri(path + "/session"))
                .header("Cookie", cookie).build()).body(), "count"));
        HttpResponse<String> echo = tomcat.send(HttpRequest.newBuilder(tomcat.uri(path + "/echo?a=b"))
                .POST(HttpRequest.BodyPublishers.ofString("12345")).build());
        assertEquals("5", Json.field(echo.body(), "bodyLength"));
        assertEquals("a=b", Json.field(echo.body(), "queryString"));
        assertEquals(1000, tomcat.get(path + "/download?bytes=1000").body().length());
    }

    private static void zip(Path from, Path war) throws IOException {
        try (OutputStream out = Files.newOutputStream(war); ZipOutputStream zip = new ZipOutputStream(out);
                Stream<Path> files = Files.walk(from)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (Files.isDirectory(file) && !file.equals(from)) {
                    // as the jar tool writes them: Tomcat finds WEB-INF/classes through its entry
                    zip.putNextEntry(new ZipEntry(from.relativize(file).toString().replace('\\', '/') + "/"));
                    zip.closeEntry();
                } else if (Files.isRegularFile(file)) {
                    zip.putNextEntry(new ZipEntry(from.relativize(file).toString().replace('\\', '/')));
                    Files.copy(file, zip);
                    zip.closeEntry();
                }
            }
        }
    }
}
