package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.portico.testsupport.Poll;

/**
 * A big packed WAR (the sample plus about 40 MB of real library jars from the local Maven
 * repository) hosted in-process from {@code apps/big.war}, compared with the same WAR deployed
 * by Tomcat from {@code webapps/} and hosted exploded. Asserts behaviour only — it is served, and
 * nothing appears in a directory that a deployer scans (the double deploy architecture.md
 * describes) — and prints the first-response times (docs/benchmarks.md has them).
 */
class PackedWarStartupIT {

    private static final long LIBRARY_BYTES = 40L << 20;
    private static final Duration FIRST_RESPONSE = Duration.ofSeconds(120);
    private static final Pattern DEPLOYED_IN = Pattern.compile(
            "Deployment of web application archive \\[[^\\]]*bigweb\\.war\\] has finished in \\[([0-9,.]+)\\] ms");

    private static TomcatDistribution tomcat;
    private static Path bigWar;
    private static final List<String> figures = new ArrayList<>();

    @BeforeAll
    static void startTomcatWithTheBigWarThreeWays() throws IOException {
        Path dir = Files.createDirectories(E2eSettings.workDir().resolve("bigwar"));
        bigWar = dir.resolve("big.war");
        long libraries = buildBigWar(E2eSettings.sampleWar(), bigWar);
        figures.add(String.format("WAR: %.1f MB (%.1f MB of library jars)", Files.size(bigWar) / 1048576.0,
                libraries / 1048576.0));
        tomcat = TomcatDistribution.named("packedwar").create();
        Files.copy(bigWar, tomcat.catalinaBase().resolve("webapps/bigweb.war"));
        Files.createDirectories(tomcat.appsDir());
        Files.copy(bigWar, tomcat.appsDir().resolve("big.war"));
        Path exploded = dir.resolve("exploded");
        unzip(bigWar, exploded);
        tomcat.installApp("bigexp", exploded);
        tomcat.start();
        // the HTTP port accepts (the socket is bound at init) before Tomcat has deployed webapps/
        Poll.until(FIRST_RESPONSE, "Tomcat started", () -> tomcat.log().contains("Server startup in"));
    }

    @AfterAll
    static void stopTomcat() {
        figures.forEach(line -> System.out.println("[packed WAR] " + line));
        TomcatDistribution.closeAndAssertCleanLog(tomcat);
    }

    @Test
    void aPackedWarIsServedInProcessWithoutAnythingNewInADeployersDirectory() throws IOException {
        Matcher deployed = DEPLOYED_IN.matcher(tomcat.log());
        assertTrue(deployed.find(), "Tomcat deployed webapps/bigweb.war");
        figures.add("webapps/bigweb.war, Tomcat's deployment (its log): " + deployed.group(1).replaceAll("[,.]", "") + " ms");
        Set<String> appsBefore = names(tomcat.appsDir());
        Set<String> webappsBefore = names(tomcat.catalinaBase().resolve("webapps"));

        figures.add("apps/big.war in-process, first response: " + firstResponse("/big/info") + " ms");
        figures.add("apps/bigexp/ (exploded) in-process, first response: " + firstResponse("/bigexp/info") + " ms");
        figures.add("webapps/bigweb.war, a response once deployed: " + firstResponse("/bigweb/info") + " ms");

        assertEquals(appsBefore, names(tomcat.appsDir()), "nothing new in Portico's appBase");
        assertEquals(webappsBefore, names(tomcat.catalinaBase().resolve("webapps")), "nothing new in the Host's appBase");
        assertEquals("inProcess", tomcat.http().getJson("/big/info").path("hostingModel").asText());
        HttpResponse<String> jsp = tomcat.http().get("/big/hello.jsp");
        assertEquals(200, jsp.statusCode(), jsp.body());
    }

    private static long firstResponse(String path) {
        long start = System.nanoTime();
        HttpResponse<String> response = tomcat.http().send(tomcat.http().request(path).timeout(FIRST_RESPONSE).build());
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(200, response.statusCode(), path + ": " + response.body() + "\n" + tomcat.logTail());
        return millis;
    }

    private static Set<String> names(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return new java.util.TreeSet<>(entries.map(p -> p.getFileName().toString()).toList());
        }
    }

    /**
     * The sample WAR plus library jars from the local Maven repository (plain libraries: no
     * servlet, container or web-fragment classes, which would change what the app is), one
     * version per artifact, until {@link #LIBRARY_BYTES}.
     */
    private static long buildBigWar(Path sample, Path war) throws IOException {
        Path repository = Path.of(System.getProperty("user.home"), ".m2", "repository");
        List<Path> candidates;
        try (Stream<Path> files = Files.walk(repository)) {
            candidates = files.filter(p -> p.toString().endsWith(".jar") && !p.toString().endsWith("-sources.jar")
                    && !p.toString().endsWith("-javadoc.jar") && !p.toString().endsWith("-tests.jar"))
                    .filter(p -> !p.toString().contains("/dev/portico/"))
                    .sorted(Comparator.comparing(Path::toString))
                    .toList();
        }
        Set<String> artifacts = new HashSet<>();
        long total = 0;
        Path staging = war.resolveSibling("staging");
        deleteTree(staging);
        copyTree(sample, staging);
        Path lib = Files.createDirectories(staging.resolve("WEB-INF/lib"));
        for (Path jar : candidates) {
            if (total >= LIBRARY_BYTES) {
                break;
            }
            String artifact = jar.getParent().getParent().toString();
            if (!artifacts.add(artifact) || !isPlainLibrary(jar)) {
                continue;
            }
            Files.copy(jar, lib.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            total += Files.size(jar);
        }
        assertTrue(total >= LIBRARY_BYTES / 2, "found " + total + " bytes of library jars in " + repository);
        zip(staging, war);
        deleteTree(staging);
        return total;
    }

    private static boolean isPlainLibrary(Path jar) {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.stream().map(ZipEntry::getName).noneMatch(name -> name.startsWith("jakarta/") || name.startsWith("javax/servlet")
                    || name.startsWith("org/apache/catalina") || name.startsWith("org/apache/tomcat")
                    || name.startsWith("org/eclipse/jetty") || name.equals("META-INF/web-fragment.xml")
                    || name.startsWith("META-INF/services/jakarta.servlet") || name.startsWith("META-INF/services/javax.servlet")
                    || name.endsWith(".tld") || name.endsWith(".SF"));
        } catch (IOException e) {
            return false;
        }
    }

    private static void zip(Path dir, Path war) throws IOException {
        try (OutputStream out = Files.newOutputStream(war); ZipOutputStream zip = new ZipOutputStream(out);
                Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                zip.putNextEntry(new ZipEntry(dir.relativize(file).toString().replace('\\', '/')));
                Files.copy(file, zip);
                zip.closeEntry();
            }
        }
    }

    private static void unzip(Path war, Path dir) throws IOException {
        deleteTree(dir);
        try (ZipFile zip = new ZipFile(war.toFile())) {
            for (ZipEntry entry : zip.stream().toList()) {
                Path target = dir.resolve(entry.getName()).normalize();
                assertFalse(!target.startsWith(dir), entry.getName());
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(zip.getInputStream(entry), target);
                }
            }
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.toList()) {
                Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
