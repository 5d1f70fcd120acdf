package dev.portico.hosting;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.apache.catalina.util.ContextName;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.PorticoXml;

/**
 * What appBase holds, app by app, and which apps' files changed since the catalog last looked:
 * the file system's watch when there is one, with a name whose files are still changing (a WAR
 * being copied) held back until they settle. Not thread-safe: the catalog calls it under its lock.
 */
final class AppBaseScan {

    /** Updates a name may wait for its files to settle before it is acted on anyway. */
    private static final int MAX_SETTLING_UPDATES = 25;

    // the catalog's category and messages: moving the code out of AppCatalog changed no log line
    private static final Log log = LogFactory.getLog(AppCatalog.class);
    private static final StringManager sm = StringManager.getManager(AppCatalog.class);

    private final Path appBase;
    /** Null until {@link #startWatching()}, or when the file system has no watch service: every update scans. */
    private AppBaseWatch watch;
    /** Apps whose files were still changing at the last update, with how many updates they have been waiting. */
    private final Map<String, Integer> settling = new HashMap<>();

    AppBaseScan(Path appBase) {
        this.appBase = appBase;
    }

    void startWatching() {
        if (watch != null) {
            return;
        }
        try {
            watch = new AppBaseWatch(appBase);
        } catch (IOException | UnsupportedOperationException e) {
            log.warn(sm.getString("catalog.noWatch", appBase, e.toString()));
        }
    }

    boolean watching() {
        return watch != null;
    }

    void stopWatching() {
        if (watch != null) {
            watch.close();
            watch = null;
        }
    }

    /**
     * The names whose files changed and have since gone quiet, or null when the watch lost track
     * (events dropped, a directory replaced) and everything must be scanned again.
     */
    Set<String> settledChanges() {
        AppBaseWatch.Changes changes = watch.poll();
        if (changes.everything()) {
            return null;
        }
        Set<String> quiet = new HashSet<>();
        for (var it = settling.entrySet().iterator(); it.hasNext();) {
            var waiting = it.next();
            if (!changes.names().contains(waiting.getKey()) || waiting.getValue() >= MAX_SETTLING_UPDATES) {
                quiet.add(waiting.getKey());
                it.remove();
            }
        }
        for (String name : changes.names()) {
            if (!quiet.contains(name)) {
                settling.merge(name, 1, Integer::sum);
            }
        }
        return quiet;
    }

    /**
     * Every app in appBase by name; nothing waits to settle afterwards.
     *
     * @param rewatch register every directory anew (the watch lost events: a directory may have been replaced)
     * @param hosted  what is hosted now, kept when appBase cannot be listed
     */
    Map<String, AppSource> everything(boolean rewatch, Map<String, AppCatalog.Slot> hosted) {
        Map<String, AppSource> found = new HashMap<>();
        if (Files.isDirectory(appBase)) {
            try (Stream<Path> entries = Files.list(appBase)) {
                for (Path entry : (Iterable<Path>) entries::iterator) {
                    examine(entry, found, rewatch);
                }
            } catch (IOException | java.io.UncheckedIOException e) {
                log.warn(sm.getString("catalog.unreadable", appBase, e.toString()));
                // keep what is hosted rather than stopping every app on a transient error
                hosted.forEach((name, slot) -> found.put(name, slot.source()));
            }
        }
        settling.clear();
        return found;
    }

    /** What appBase holds under these names (each one's directory, else its WAR). */
    Map<String, AppSource> only(Set<String> names) {
        Map<String, AppSource> found = new HashMap<>();
        for (String name : names) {
            Path directory = appBase.resolve(name);
            examine(directory, found, true);
            if (!Files.isDirectory(directory) && watch != null) {
                watch.forget(name);
            }
            examine(appBase.resolve(name + ".war"), found, true);
        }
        return found;
    }

    /** One entry of appBase: an app directory, a WAR, or neither; its directory is watched either way. */
    private void examine(Path entry, Map<String, AppSource> found, boolean rewatch) {
        String fileName = entry.getFileName().toString();
        if (fileName.startsWith(".")) {
            return;
        }
        if (Files.isDirectory(entry)) {
            if (watch != null) {
                watch.watchEntry(fileName, rewatch);
            }
            boolean war = Files.isDirectory(entry.resolve("WEB-INF"));
            Path config = war ? entry.resolve("WEB-INF").resolve(PorticoXml.FILE_NAME) : entry.resolve(PorticoXml.FILE_NAME);
            if (war || present(config)) {
                found.put(fileName, new AppSource(fileName, contextPath(fileName), entry, entry, war, config));
            }
        } else if (fileName.endsWith(".war") && Files.isRegularFile(entry)) {
            String name = fileName.substring(0, fileName.length() - 4);
            // an unpacked directory of the same name wins, as in Tomcat's webapps
            found.putIfAbsent(name, new AppSource(name, contextPath(name), entry, appBase.resolve(name), true,
                    Path.of(entry + "!/WEB-INF/" + PorticoXml.FILE_NAME)));
        }
    }

    /**
     * Anything at all under the name portico.xml — a directory, a pipe, a dangling link — is the
     * administrator's intent to configure the app: it is read, and refused with a 500.19 that
     * names it, rather than ignored (a 404, or an exploded WAR silently hosted with defaults).
     */
    static boolean present(Path configFile) {
        return Files.exists(configFile, LinkOption.NOFOLLOW_LINKS);
    }

    private static String contextPath(String name) {
        return new ContextName(name, false).getPath();
    }
}
