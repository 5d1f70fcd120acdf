package dev.portico.hosting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;

/**
 * How the catalog learns of changes in appBase. With the full rescan set to an hour, only the
 * file-system watch can tell it, so each kind of change a deployment makes must come through
 * the watch: an app added (its directory filled after it was created), removed, a packed WAR
 * added, replaced and removed, portico.xml changed, restart.txt and web.xml touched,
 * app_offline.htm put and taken away. A change the watch cannot see (a portico.xml that is a link
 * to a file elsewhere) is found by the safety rescan. And with hundreds of apps, each request goes
 * to the app of its longest prefix, also while apps come and go. None of these apps starts a
 * process: they are observed through the status page (generation), their app_offline.htm (which
 * names the app that answered) and their configuration error page.
 */
class AppBaseChangesTest {

    private static final Duration LIMIT = Duration.ofSeconds(10);
    private static final String NEVER_STARTED = "<portico processPath=\"node\" arguments=\"never-started.js\"/>";

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> {
        valve.setShutdownTimeLimit(2);
        valve.setRescanInterval(3600);
    }).withStatusPage();

    @Test
    void anAppDirectoryFilledAfterItWasCreatedIsHostedAndItsRemovalNoticed() throws Exception {
        Path dir = Files.createDirectories(tomcat.apps().resolve("late"));
        Files.writeString(dir.resolve("app_offline.htm"), "late app");
        Files.writeString(dir.resolve("portico.xml"), NEVER_STARTED);
        Poll.until(LIMIT, "app hosted", () -> "late app".equals(tomcat.get("/late/x").body()));
        delete(dir);
        Poll.until(LIMIT, "app removed", () -> !tomcat.valve().getHostedApps().containsKey("/late"));
        assertEquals(404, tomcat.get("/late/x").statusCode());
    }

    @Test
    void aWebAppDirectoryWhoseWebInfArrivesLaterIsHosted() throws Exception {
        Path dir = Files.createDirectories(tomcat.apps().resolve("latewar"));
        Files.createDirectories(dir.resolve("WEB-INF"));
        Poll.until(LIMIT, "web app hosted", () -> tomcat.valve().getHostedApps().containsKey("/latewar"));
        long first = generation("latewar");
        Files.writeString(dir.resolve("WEB-INF/portico.xml"), "<portico hostingModel=\"outOfProcess\"/>");
        Poll.until(LIMIT, "WEB-INF/portico.xml noticed", () -> generation("latewar") > first);
        assertTrue(tomcat.valve().getHostedApps().get("/latewar").startsWith("out-of-process"),
                tomcat.valve().getHostedApps().toString());
        long second = generation("latewar");
        touch(dir.resolve("WEB-INF/web.xml"));
        Poll.until(LIMIT, "web.xml touch noticed", () -> generation("latewar") > second);
    }

    @Test
    void aChangedPorticoXmlAndATouchedRestartTxtRecycleTheApp() throws Exception {
        Path dir = tomcat.writeApp("recycled", NEVER_STARTED);
        long first = generation("recycled");
        Files.writeString(dir.resolve("portico.xml"), "<portico processPath=\"node\" arguments=\"other.js\"/>");
        Poll.until(LIMIT, "portico.xml change noticed", () -> generation("recycled") > first);
        long second = generation("recycled");
        touch(dir.resolve("restart.txt"));
        Poll.until(LIMIT, "restart.txt noticed", () -> generation("recycled") > second);
        long third = generation("recycled");
        touch(dir.resolve("restart.txt"));
        Poll.until(LIMIT, "restart.txt touched again noticed", () -> generation("recycled") > third);
    }

    @Test
    void appOfflineComingAndGoingIsNoticed() throws Exception {
        Path dir = tomcat.writeApp("maint", "<portico processPath=\"node\" startupTimeLimit=\"not-a-number\"/>");
        assertEquals(500, tomcat.get("/maint/").statusCode());
        Files.writeString(dir.resolve("app_offline.htm"), "back soon");
        Poll.until(LIMIT, "offline noticed", () -> tomcat.get("/maint/").statusCode() == 503);
        assertEquals("back soon", tomcat.get("/maint/").body());
        Files.writeString(dir.resolve("app_offline.htm"), "back later");
        Poll.until(LIMIT, "new offline page noticed", () -> "back later".equals(tomcat.get("/maint/").body()));
        Files.delete(dir.resolve("app_offline.htm"));
        Poll.until(LIMIT, "online noticed", () -> tomcat.get("/maint/").statusCode() == 500);
        assertTrue(tomcat.get("/maint/").body().contains("not-a-number"));
    }

    @Test
    void aPackedWarAddedReplacedAndRemovedIsNoticed() throws Exception {
        Path war = tomcat.apps().resolve("packed.war");
        writeWar(war, "<portico hostingModel=\"outOfProcess\" startupTimeLimit=\"first\"/>");
        Poll.until(LIMIT, "packed WAR hosted", () -> tomcat.get("/packed/").body().contains("first"));
        // replaced the way deployments do it: written beside, then moved over the old one
        Path next = tomcat.apps().resolve(".packed.war.new");
        writeWar(next, "<portico hostingModel=\"outOfProcess\" startupTimeLimit=\"second\"/>");
        Files.move(next, war, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Poll.until(LIMIT, "replaced WAR noticed", () -> tomcat.get("/packed/").body().contains("second"));
        // and rewritten in place
        writeWar(war, "<portico hostingModel=\"outOfProcess\" startupTimeLimit=\"third\"/>");
        Poll.until(LIMIT, "rewritten WAR noticed", () -> tomcat.get("/packed/").body().contains("third"));
        Files.delete(war);
        Poll.until(LIMIT, "removed WAR noticed", () -> !tomcat.valve().getHostedApps().containsKey("/packed"));
    }

    /** A change of a file outside appBase, seen through a link, raises no event in appBase: the rescan finds it. */
    @Test
    void aChangeTheWatchCannotSeeIsFoundByTheSafetyRescan() throws Exception {
        try (HostingTomcat rescanned = HostingTomcat.start(valve -> {
            valve.setShutdownTimeLimit(2);
            valve.setRescanInterval(1);
        })) {
            Path elsewhere = Files.createTempDirectory("portico-linked-config-");
            try {
                Path target = elsewhere.resolve("portico.xml");
                Files.writeString(target, "<portico processPath=\"node\" startupTimeLimit=\"before\"/>");
                Path dir = Files.createDirectories(rescanned.apps().resolve("linked"));
                Files.createSymbolicLink(dir.resolve("portico.xml"), target);
                Poll.until(LIMIT, "linked app hosted", () -> rescanned.get("/linked/").body().contains("before"));
                Files.writeString(target, "<portico processPath=\"node\" startupTimeLimit=\"after-change\"/>");
                Files.setLastModifiedTime(target, FileTime.from(Instant.now().plusSeconds(5)));
                Poll.until(LIMIT, "linked portico.xml change found by the rescan",
                        () -> rescanned.get("/linked/").body().contains("after-change"));
            } finally {
                delete(elsewhere);
            }
        }
    }

    /**
     * 300 apps, nested paths and ROOT: each request lands in the app of its longest prefix,
     * also while a client keeps asking and apps are added and removed beside it.
     */
    @Test
    void manyAppsEachRequestToItsLongestPrefixAlsoWhileAppsComeAndGo() throws Exception {
        Path root = tomcat.apps().resolve("ROOT");
        offlineApp(root, "ROOT");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            String name = "m" + i;
            offlineApp(tomcat.apps().resolve(name), name);
            names.add(name);
        }
        offlineApp(tomcat.apps().resolve("m7#inner"), "m7#inner");
        Poll.until(LIMIT, "all apps hosted",
                () -> tomcat.valve().getHostedApps().keySet().containsAll(List.of("/", "/m0", "/m299", "/m7/inner")));
        for (String name : names) {
            assertEquals("app " + name, tomcat.get("/" + name + "/page").body());
        }
        assertEquals("app m7#inner", tomcat.get("/m7/inner").body());
        assertEquals("app m7#inner", tomcat.get("/m7/inner/deeper/page").body());
        assertEquals("app m7", tomcat.get("/m7/innerx").body());
        assertEquals("app m7", tomcat.get("/m7").body());
        assertEquals("app ROOT", tomcat.get("/m70000/page").body());
        assertEquals("app ROOT", tomcat.get("/").body());
        // a webapp of the front Host with a longer path than ROOT still wins, as in Tomcat's mapping
        assertEquals("plain tomcat /plain/x", tomcat.get("/plain/x").body());

        AtomicBoolean serving = new AtomicBoolean(true);
        AtomicInteger answered = new AtomicInteger();
        AtomicReference<String> wrong = new AtomicReference<>();
        Thread client = new Thread(() -> {
            while (serving.get() && wrong.get() == null) {
                String body = tomcat.get("/m150/page").body();
                if (!"app m150".equals(body)) {
                    wrong.set(body);
                }
                answered.incrementAndGet();
            }
        });
        client.start();
        try {
            offlineApp(tomcat.apps().resolve("m150#sub"), "m150#sub");
            Poll.until(LIMIT, "added app serving", () -> "app m150#sub".equals(tomcat.get("/m150/sub/x").body()));
            delete(tomcat.apps().resolve("m42"));
            Poll.until(LIMIT, "removed app gone to ROOT", () -> "app ROOT".equals(tomcat.get("/m42/page").body()));
            delete(tomcat.apps().resolve("m150#sub"));
            Poll.until(LIMIT, "removed nested app gone", () -> "app m150".equals(tomcat.get("/m150/sub/x").body()));
            int before = answered.get();
            Poll.until(LIMIT, "the client still answered", () -> answered.get() > before + 10);
        } finally {
            serving.set(false);
            client.join();
        }
        assertEquals(null, wrong.get(), "a request of the serving app answered by another");
        assertEquals("app m149", tomcat.get("/m149/page").body());
        assertEquals("app m151", tomcat.get("/m151/page").body());
        for (String name : names) {
            if (!name.equals("m42")) {
                delete(tomcat.apps().resolve(name));
            }
        }
        delete(tomcat.apps().resolve("m7#inner"));
        delete(root);
        Poll.until(LIMIT, "apps removed", () -> tomcat.valve().getHostedApps().keySet().stream()
                .noneMatch(p -> p.matches("/m[0-9]+(/inner)?") || p.equals("/")));
    }

    /** An app that never starts: a portico.xml and an app_offline.htm that names it. */
    private static void offlineApp(Path dir, String name) throws IOException {
        Path staging = dir.resolveSibling("." + dir.getFileName());
        Files.createDirectories(staging);
        Files.writeString(staging.resolve("app_offline.htm"), "app " + name);
        Files.writeString(staging.resolve("portico.xml"), NEVER_STARTED);
        Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
    }

    private static long generation(String name) {
        Map<?, ?> status = (Map<?, ?>) Json.parse(tomcat.status());
        for (Object app : (List<?>) status.get("apps")) {
            Map<?, ?> fields = (Map<?, ?>) app;
            if (name.equals(fields.get("name"))) {
                return ((Number) fields.get("generation")).longValue();
            }
        }
        return -1;
    }

    private static void touch(Path file) throws IOException {
        if (!Files.exists(file)) {
            Files.writeString(file, "");
        }
        // a later time than any the file had: a touch within the same millisecond still counts
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(counter.incrementAndGet())));
    }

    private static final AtomicInteger counter = new AtomicInteger();

    private static void writeWar(Path war, String porticoXml) throws IOException {
        try (OutputStream out = Files.newOutputStream(war); ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry("WEB-INF/"));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("WEB-INF/portico.xml"));
            zip.write(porticoXml.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            zip.closeEntry();
        }
    }

    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
