package dev.portico.hosting;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.PorticoXml;

/**
 * Tells the catalog which apps' files changed, from the file system's change notifications
 * (inotify on Linux: one watch service, one JDK thread for every directory), so that an idle
 * appBase costs nothing between the catalog's safety rescans. Watched: appBase (apps added,
 * removed, a WAR replaced), each directory in it (portico.xml, restart.txt, app_offline.htm,
 * a WEB-INF appearing) and each WEB-INF (portico.xml, web.xml). Changes to other files are
 * ignored, so an app writing its own files into its directory does not keep the catalog busy.
 *
 * <p>A directory that cannot be watched (the kernel's limit of watches reached, say) is polled
 * instead: its app is looked at on every tick, as every app was before. Not thread-safe: the
 * catalog calls it under its own lock.
 */
final class AppBaseWatch implements Closeable {

    private static final Log log = LogFactory.getLog(AppBaseWatch.class);
    private static final StringManager sm = StringManager.getManager(AppBaseWatch.class);
    private static final String WEB_INF = "WEB-INF";
    private static final Set<String> APP_FILES = Set.of(PorticoXml.FILE_NAME, AppCatalog.RESTART_FILE,
            AppCatalog.APP_OFFLINE, WEB_INF);
    private static final Set<String> WEB_INF_FILES = Set.of(PorticoXml.FILE_NAME, "web.xml");

    /** What changed since the last poll. */
    record Changes(boolean everything, Set<String> names) {
        static final Changes NONE = new Changes(false, Set.of());
    }

    private final Path appBase;
    private final WatchService service;
    /** Each watched directory's key: appBase, appBase/x and appBase/x/WEB-INF. */
    private final Map<Path, WatchKey> keys = new HashMap<>();
    /** Apps whose directories could not be watched: looked at on every poll. */
    private final Set<String> polled = new HashSet<>();
    private boolean lost;

    /** @throws IOException when the file system offers no watch service (the caller falls back to scanning) */
    AppBaseWatch(Path appBase) throws IOException {
        this.appBase = appBase;
        Thread current = Thread.currentThread();
        ClassLoader caller = current.getContextClassLoader();
        // the JDK starts the watch service's thread now, with the creator's context class loader
        current.setContextClassLoader(AppBaseWatch.class.getClassLoader());
        try {
            service = appBase.getFileSystem().newWatchService();
        } finally {
            current.setContextClassLoader(caller);
        }
        watchAppBase();
    }

    /** (Re)watches appBase itself; false when it cannot be (it does not exist yet, say). */
    private boolean watchAppBase() {
        lost = !register(appBase);
        return !lost;
    }

    /**
     * Watches the directory of the appBase entry {@code name} (and its WEB-INF), whether or not
     * it is an app yet: a directory being filled becomes one when its portico.xml or WEB-INF
     * arrives. With {@code again}, after events about the entry, it registers anew and so replaces
     * the watch of a directory that was replaced (the old key follows the old directory wherever it
     * was moved); without, a directory already watched costs nothing (the periodic rescan).
     */
    void watchEntry(String name, boolean again) {
        Path dir = appBase.resolve(name);
        boolean watched = !Files.isDirectory(dir) || watch(dir, again);
        Path webInf = dir.resolve(WEB_INF);
        watched &= !Files.isDirectory(webInf) || watch(webInf, again);
        if (watched) {
            polled.remove(name);
        } else {
            polled.add(name);
        }
    }

    /** Stops watching the directories of an entry that is gone. */
    void forget(String name) {
        Path dir = appBase.resolve(name);
        cancel(dir.resolve(WEB_INF));
        cancel(dir);
        polled.remove(name);
    }

    /** Registers a directory not watched yet, or {@code again} (it may be a new directory at the same path). */
    private boolean watch(Path dir, boolean again) {
        WatchKey key = keys.get(dir);
        return !again && key != null && key.isValid() || register(dir);
    }

    private boolean register(Path dir) {
        try {
            WatchKey key = dir.register(service, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY);
            WatchKey previous = keys.put(dir, key);
            if (previous != null && previous != key) {
                previous.cancel();
            }
            return true;
        } catch (IOException | ClosedWatchServiceException e) {
            log.debug(sm.getString("watch.notWatched", dir, e.toString()));
            cancel(dir);
            return false;
        }
    }

    private void cancel(Path dir) {
        WatchKey key = keys.remove(dir);
        if (key != null) {
            key.cancel();
        }
    }

    /** The apps whose files changed (and those polled), or everything when events were lost. */
    Changes poll() {
        Set<String> names = new HashSet<>(polled);
        boolean everything = lost && watchAppBase();
        for (WatchKey key; (key = service.poll()) != null;) {
            Path dir = (Path) key.watchable();
            for (WatchEvent<?> event : key.pollEvents()) {
                if (event.kind() == OVERFLOW) {
                    everything = true;
                } else {
                    String changed = event.context().toString();
                    String name = appOf(dir, changed);
                    if (name != null) {
                        names.add(name);
                    }
                }
            }
            if (!key.reset()) {
                // the directory is gone (or was replaced): its app is looked at again
                keys.remove(dir, key);
                if (dir.equals(appBase)) {
                    everything = true;
                    lost = true;
                } else {
                    String name = appOf(dir, null);
                    if (name != null) {
                        names.add(name);
                    }
                }
            }
        }
        return everything || !names.isEmpty() ? new Changes(everything, names) : Changes.NONE;
    }

    /** The app (appBase entry name, without .war) a change in {@code dir} concerns, or null for a file nobody reads. */
    private String appOf(Path dir, String changed) {
        if (dir.equals(appBase)) {
            if (changed == null || changed.startsWith(".")) {
                return null;
            }
            return changed.endsWith(".war") ? changed.substring(0, changed.length() - 4) : changed;
        }
        Path parent = dir.getParent();
        if (appBase.equals(parent)) {
            return changed == null || APP_FILES.contains(changed) ? dir.getFileName().toString() : null;
        }
        if (parent != null && appBase.equals(parent.getParent()) && dir.getFileName().toString().equals(WEB_INF)) {
            return changed == null || WEB_INF_FILES.contains(changed) ? parent.getFileName().toString() : null;
        }
        return null;
    }

    @Override
    public void close() {
        try {
            service.close();
        } catch (IOException e) {
            log.debug(sm.getString("watch.closeFailed", appBase, e.toString()));
        }
        keys.clear();
    }
}
