package dev.portico.hosting;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.apache.catalina.util.ContextName;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.AppConfig;
import dev.portico.config.ConfigException;
import dev.portico.config.Excerpt;
import dev.portico.config.PorticoXml;

/**
 * The apps in the valve's appBase and what each one is doing. It notices apps added and
 * removed, a changed portico.xml, WAR or web.xml, a touched restart.txt (the app is recycled) and
 * app_offline.htm appearing or going: {@link #update()} runs every scanInterval and looks only
 * at the apps the file system's watch reported changed; {@link #scan()} looks at everything, at
 * start and every rescanInterval as a safety net. Request threads only read immutable snapshots
 * ({@link #match}, a lookup that does not grow with the number of apps); every change is made
 * under the catalog's lock, by the valve's scanning threads.
 */
public final class AppCatalog {

    public static final String APP_OFFLINE = "app_offline.htm";
    /** Touching this file in an app's directory recycles the app, as Passenger's tmp/restart.txt does. */
    public static final String RESTART_FILE = "restart.txt";

    /** What requests get while an operator holds an app offline and it has no app_offline.htm of its own. */
    private static final byte[] OPERATOR_OFFLINE_PAGE = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            + "<title>Service Unavailable</title></head><body>\n<h1>Service Unavailable</h1>\n"
            + "<p>This application has been taken offline for maintenance. Please try again shortly.</p>\n"
            + "</body></html>\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);

    /** Updates a name may wait for its files to settle before it is acted on anyway. */
    private static final int MAX_SETTLING_UPDATES = 25;

    private static final Log log = LogFactory.getLog(AppCatalog.class);
    private static final StringManager sm = StringManager.getManager(AppCatalog.class);

    private final Path appBase;
    private final PorticoXml parser;
    private final HostingEvents events;
    private final AppFactory factory;
    private final boolean showConfigDetails;
    private final SlotListener slotListener;
    /** Every hosted app by name; changed only under the catalog's lock. */
    private final Map<String, Slot> byName = new HashMap<>();
    private final Queue<Command> commands = new ConcurrentLinkedQueue<>();
    /** Snapshots for request threads, replaced whenever an app comes or goes. */
    private volatile List<Slot> byLongestPath = List.of();
    private volatile ContextPathIndex<Slot> byPath = ContextPathIndex.empty();
    private volatile Map<String, Slot> named = Map.of();
    /** Null until {@link #startWatching()}, or when the file system has no watch service: every {@link #update()} scans. */
    private AppBaseWatch watch;
    /** Apps whose files were still changing at the last update, with how many updates they have been waiting. */
    private final Map<String, Integer> settling = new HashMap<>();

    public AppCatalog(Path appBase, PorticoXml parser, HostingEvents events, AppFactory factory,
            boolean showConfigDetails, SlotListener slotListener) {
        this.slotListener = slotListener;
        this.appBase = appBase;
        this.events = events;
        this.parser = parser;
        this.factory = factory;
        this.showConfigDetails = showConfigDetails;
    }

    /** What an operator can ask of one app (over JMX); carried out by the next {@link #update()}. */
    public enum Operation {
        /** Rebuild the app as a changed portico.xml would: a new generation takes over. */
        RECYCLE,
        /** Start it now, without waiting for a request. */
        START,
        /** Stop its process (or Context), draining in-flight requests; the next request starts it again. */
        STOP,
        /** Hold it offline: requests get app_offline.htm's 503 (or Portico's own offline page) and it stops. */
        TAKE_OFFLINE,
        /** Release the operator's hold; the app stays offline while app_offline.htm is present. */
        BRING_ONLINE
    }

    private record Command(String name, Operation operation) {
    }

    /** Told when an app takes its place in the catalog and when it leaves it (removed, or Tomcat stopping). */
    public interface SlotListener {
        SlotListener NONE = new SlotListener() {
            @Override
            public void added(AppCatalog catalog, Slot slot) {
            }

            @Override
            public void removed(AppCatalog catalog, Slot slot) {
            }
        };

        void added(AppCatalog catalog, Slot slot);

        void removed(AppCatalog catalog, Slot slot);
    }

    /** One hosted app's place in the catalog: the app itself, whether it is offline, and its request figures. */
    public static final class Slot {
        private final AppSource source;
        private final AppMetrics metrics = new AppMetrics();
        private volatile HostedApp app;
        private volatile byte[] offlinePage;
        private volatile boolean heldOffline;
        private volatile byte[] offlineFile;
        /** The next generation while it warms up beside the serving one. */
        private HostedApp pending;
        private volatile AppStatus.Failure deploymentFailure;
        private String fingerprint;
        private String offlineFingerprint;
        private String rebuildReason;

        Slot(AppSource source) {
            this.source = source;
        }

        public AppSource source() {
            return source;
        }

        public HostedApp app() {
            return app;
        }

        /**
         * The app's status, with a failed deployment of a newer generation (which the serving
         * one outlived) as its last failure.
         */
        public AppStatus status() {
            AppStatus status = app.status();
            AppStatus.Failure failed = deploymentFailure;
            if (failed == null || status.lastFailure() != null && status.lastFailure().at() != null
                    && status.lastFailure().at().isAfter(failed.at())) {
                return status;
            }
            return new AppStatus(status.model(), status.state(), status.description(), status.generation(),
                    status.starts(), status.crashes(), status.inFlight(), failed, status.nextAttemptAt(),
                    status.stdoutLogFile(), status.processes(), status.runningSince());
        }

        /** The page offline requests get (app_offline.htm's bytes, or Portico's page while an operator holds the app offline), else null. */
        public byte[] offlinePage() {
            return offlinePage;
        }

        /** True while an operator holds the app offline ({@link Operation#TAKE_OFFLINE}). */
        public boolean heldOffline() {
            return heldOffline;
        }

        /** True while app_offline.htm is present (whether or not an operator holds the app offline too). */
        public boolean offlineByFile() {
            return offlineFile != null;
        }

        /** Why the app is offline: {@code app_offline.htm}, {@code operator}, or null while it is online. */
        public String offlineReason() {
            return offlinePage == null ? null : offlineFile != null ? APP_OFFLINE : "operator";
        }

        public AppMetrics metrics() {
            return metrics;
        }

    }

    /** The app whose context path is the longest prefix of the (decoded) request URI, or null. */
    public Slot match(String decodedUri) {
        return byPath.match(decodedUri);
    }

    public List<Slot> slots() {
        return byLongestPath;
    }

    /** The hosted app of that name (its directory or WAR name; "ROOT" for /), or null. */
    public Slot slot(String name) {
        return named.get(name);
    }

    /**
     * Asks for an operation on an app; the scanning thread carries it out within a scan interval
     * (it owns every change to the catalog, and runs with Portico's class loader, not the caller's).
     *
     * @return false when refused: a start of an app that is offline
     * @throws IllegalArgumentException when no app of that name is hosted
     */
    public boolean request(String name, Operation operation) {
        Slot slot = slot(name);
        if (slot == null) {
            throw new IllegalArgumentException(sm.getString("catalog.noSuchApp", name));
        }
        if (operation == Operation.START && slot.offlinePage != null) {
            return false;
        }
        commands.add(new Command(name, operation));
        return true;
    }

    /**
     * Watches appBase from now on, so that {@link #update()} looks only at the apps whose files
     * changed; without it (or on a file system with no watch service) every update scans all.
     * Called before the first {@link #scan()}, so that nothing changed in between goes unseen.
     */
    public synchronized void startWatching() {
        if (watch != null) {
            return;
        }
        try {
            watch = new AppBaseWatch(appBase);
        } catch (IOException | UnsupportedOperationException e) {
            log.warn(sm.getString("catalog.noWatch", appBase, e.toString()));
        }
    }

    /**
     * Brings the catalog in line with everything in appBase: at start, and now and then as the
     * safety net for a change the watch did not report (a file changed through a link, an
     * event the kernel dropped).
     */
    public synchronized void scan() {
        scan(false);
    }

    /** @param rewatch register every directory anew (the watch lost events: a directory may have been replaced) */
    private void scan(boolean rewatch) {
        Map<String, AppSource> found = discover(rewatch);
        Set<String> names = new HashSet<>(byName.keySet());
        names.addAll(found.keySet());
        settling.clear();
        reconcile(names, found);
    }

    /**
     * Acts on the changes the watch reported since the last update, and on operators' requests;
     * called every scanInterval. A name whose files are still changing (a WAR being copied) waits
     * until an update finds them quiet. Costs nothing when nothing changed.
     */
    public synchronized void update() {
        if (watch == null) {
            scan();
            return;
        }
        AppBaseWatch.Changes changes = watch.poll();
        if (changes.everything()) {
            scan(true);
            return;
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
        if (quiet.isEmpty() && commands.isEmpty()) {
            return;
        }
        Map<String, AppSource> found = new HashMap<>();
        for (String name : quiet) {
            discover(name, found);
        }
        reconcile(quiet, found);
    }

    /**
     * Brings the apps of these names in line with {@code found} (what appBase holds of them),
     * and carries out the operators' requests.
     */
    private void reconcile(Set<String> names, Map<String, AppSource> found) {
        boolean changed = false;
        for (String name : names) {
            Slot slot = byName.get(name);
            if (slot != null && !slot.source.equals(found.get(name))) {
                log.info(sm.getString("catalog.removed", slot.source.name(), slot.source.location()));
                stopQuietly(slot.app, true);
                stopQuietly(slot.pending, true);
                slot.pending = null;
                events.appRemoved(slot.source.name(), slot.source.contextPath());
                slotListener.removed(this, slot);
                byName.remove(name);
                changed = true;
            }
        }
        Set<String> refresh = new LinkedHashSet<>(found.keySet());
        for (Command command; (command = commands.poll()) != null;) {
            Slot slot = byName.get(command.name());
            if (slot != null) {
                carryOut(slot, command.operation());
                refresh.add(command.name());
            }
        }
        List<Slot> added = new ArrayList<>();
        for (String name : refresh) {
            Slot slot = byName.get(name);
            if (slot == null) {
                slot = new Slot(found.get(name));
                byName.put(name, slot);
                added.add(slot);
                changed = true;
            }
            refresh(slot);
        }
        if (changed) {
            publish();
            for (Slot slot : added) {
                slotListener.added(this, slot);
            }
        }
    }

    /** New snapshots for the request threads. */
    private void publish() {
        List<Slot> sorted = new ArrayList<>(byName.values());
        sorted.sort(Comparator.comparingInt((Slot s) -> s.source.contextPath().length()).reversed());
        byLongestPath = List.copyOf(sorted);
        byPath = ContextPathIndex.of(sorted, slot -> slot.source.contextPath());
        named = Map.copyOf(byName);
    }

    private void carryOut(Slot slot, Operation operation) {
        String name = slot.source.name();
        log.info(sm.getString("catalog.operation", name, operation.name()));
        switch (operation) {
            case RECYCLE -> {
                // the next refresh rebuilds it exactly as a changed portico.xml does
                slot.fingerprint = null;
                slot.rebuildReason = sm.getString("catalog.recycleRequested", name);
            }
            case START -> {
                if (slot.offlinePage == null) {
                    slot.app.start();
                }
            }
            case STOP -> stopQuietly(slot.app, false);
            case TAKE_OFFLINE -> slot.heldOffline = true;
            case BRING_ONLINE -> slot.heldOffline = false;
        }
    }

    private void refresh(Slot slot) {
        AppSource source = slot.source;
        String fingerprint = fingerprint(source);
        boolean rebuilt = !fingerprint.equals(slot.fingerprint);
        if (rebuilt) {
            HostedApp old = slot.app;
            if (old != null) {
                log.info(slot.rebuildReason != null ? slot.rebuildReason : sm.getString("catalog.recycle", source.name()));
            }
            slot.rebuildReason = null;
            slot.fingerprint = fingerprint;
            HostedApp next = build(source);
            if (old != null && old.isServing() && slot.offlinePage == null) {
                deployBeside(slot, old, next);
                rebuilt = false; // the warm-up has started it
            } else {
                stopQuietly(slot.pending, true);
                slot.pending = null;
                switchTo(slot, next);
                stopQuietly(old, true);
            }
        }
        Path offline = source.directory().resolve(APP_OFFLINE);
        String offlineFingerprint = fileFingerprint(offline);
        if (!offlineFingerprint.equals(slot.offlineFingerprint)) {
            slot.offlineFingerprint = offlineFingerprint;
            slot.offlineFile = readOrNull(offline);
        }
        // app_offline.htm's own page wins; the operator's hold shows Portico's while there is none
        byte[] page = slot.offlineFile != null ? slot.offlineFile : slot.heldOffline ? OPERATOR_OFFLINE_PAGE : null;
        boolean wasOffline = slot.offlinePage != null;
        slot.offlinePage = page;
        if (page != null && !wasOffline) {
            log.info(slot.offlineFile != null ? sm.getString("catalog.offline", source.name(), offline)
                    : sm.getString("catalog.offlineHeld", source.name()));
            if (slot.pending != null) {
                // the new generation is what comes back online
                stopQuietly(slot.app, true);
                slot.app = slot.pending;
                slot.pending = null;
            }
            events.appOffline(source.name());
            stopQuietly(slot.app, false);
        } else if (page == null && wasOffline) {
            log.info(sm.getString("catalog.online", source.name()));
            events.appOnline(source.name());
            rebuilt = true;
        }
        if (rebuilt && slot.offlinePage == null) {
            slot.app.preloadIfEnabled();
        }
    }

    private void switchTo(Slot slot, HostedApp next) {
        AppSource source = slot.source;
        slot.app = next;
        slot.deploymentFailure = null;
        log.info(sm.getString("catalog.hosted", source.name(), displayPath(source), next.describe()));
        AppStatus status = next.status();
        events.appDeployed(source.name(), source.contextPath(), status.model(), status.generation());
    }

    /**
     * Zero-downtime recycle: the new generation starts beside the serving one, which keeps every
     * request until the new one is ready; then new requests go to the new one and the old one
     * drains and stops. A new generation that never gets ready is stopped and the old one goes
     * on serving (deployment-error resistance); the next change or restart.txt tries again.
     */
    private void deployBeside(Slot slot, HostedApp old, HostedApp next) {
        AppSource source = slot.source;
        stopQuietly(slot.pending, true);
        slot.pending = next;
        long from = old.status().generation();
        log.info(sm.getString("catalog.warming", source.name(), next.describe()));
        events.recycleBegun(source.name(), from, sm.getString("catalog.recycleReason"));
        CompletableFuture<Void> ready;
        try {
            ready = next.warmUp();
        } catch (RuntimeException e) {
            ready = CompletableFuture.failedFuture(e);
        }
        ready.whenComplete((ignored, failure) -> switchOver(slot, old, next, failure));
    }

    private synchronized void switchOver(Slot slot, HostedApp old, HostedApp next, Throwable failure) {
        if (slot.pending != next) {
            return; // superseded by a newer change, or the app was removed: whoever did that stopped it
        }
        slot.pending = null;
        AppSource source = slot.source;
        long generation = next.status().generation();
        if (failure == null) {
            switchTo(slot, next);
            log.info(sm.getString("catalog.switched", source.name(), String.valueOf(generation)));
            events.recycleFinished(source.name(), generation, true, "");
            stopQuietly(old, true);
            return;
        }
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        String message = sm.getString("catalog.deployFailed", source.name(), String.valueOf(generation),
                cause.getMessage() == null ? cause.toString() : cause.getMessage());
        String tail = cause instanceof dev.portico.hosting.StartFailure start ? start.outputTail() : "";
        log.error(message + (tail.isEmpty() ? "" : System.lineSeparator() + tail));
        slot.deploymentFailure = new AppStatus.Failure(java.time.Instant.now(), message);
        events.recycleFinished(source.name(), generation, false, message);
        stopQuietly(next, true);
    }

    private HostedApp build(AppSource source) {
        try {
            return factory.create(source, readConfig(source));
        } catch (ConfigException e) {
            log.error(sm.getString("catalog.configError", source.name(), e.getMessage()));
            return new MisconfiguredApp(e, showConfigDetails);
        } catch (Exception e) {
            log.error(sm.getString("catalog.createFailed", source.name()), e);
            ConfigException wrapped = new ConfigException(source.configFile(), "could not be applied: " + Excerpt.of(e.toString()), e);
            return new MisconfiguredApp(wrapped, showConfigDetails);
        }
    }

    private AppConfig readConfig(AppSource source) throws ConfigException {
        if (!source.packedWar()) {
            return present(source.configFile())
                    ? parser.read(source.configFile(), source.directory(), source.war())
                    : parser.defaultsFor(source.directory(), source.war());
        }
        try (ZipFile zip = new ZipFile(source.location().toFile())) {
            ZipEntry entry = zip.getEntry("WEB-INF/" + PorticoXml.FILE_NAME);
            if (entry == null) {
                return parser.defaultsFor(source.directory(), true);
            }
            if (entry.isDirectory()) {
                throw new ConfigException(source.configFile(), "is a directory, not a file", null);
            }
            try (InputStream in = zip.getInputStream(entry)) {
                return parser.read(in, source.configFile(), source.directory(), true);
            }
        } catch (IOException e) {
            throw new ConfigException(source.location(), "cannot be read as a WAR (" + Excerpt.of(e.getMessage()) + ")", e);
        }
    }

    private Map<String, AppSource> discover(boolean rewatch) {
        Map<String, AppSource> found = new HashMap<>();
        if (!Files.isDirectory(appBase)) {
            return found;
        }
        try (Stream<Path> entries = Files.list(appBase)) {
            for (Path entry : (Iterable<Path>) entries::iterator) {
                examine(entry, found, rewatch);
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            log.warn(sm.getString("catalog.unreadable", appBase, e.toString()));
            // keep what is hosted rather than stopping every app on a transient error
            byName.forEach((name, slot) -> found.put(name, slot.source));
        }
        return found;
    }

    /** What appBase holds under one app name (its directory, else its WAR), into {@code found}. */
    private void discover(String name, Map<String, AppSource> found) {
        Path directory = appBase.resolve(name);
        examine(directory, found, true);
        if (!Files.isDirectory(directory) && watch != null) {
            watch.forget(name);
        }
        examine(appBase.resolve(name + ".war"), found, true);
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
    private static boolean present(Path configFile) {
        return Files.exists(configFile, LinkOption.NOFOLLOW_LINKS);
    }

    static String contextPath(String name) {
        return new ContextName(name, false).getPath();
    }

    private static String displayPath(AppSource source) {
        return source.contextPath().isEmpty() ? "/" : source.contextPath();
    }

    private static String fingerprint(AppSource source) {
        if (source.packedWar()) {
            return fileFingerprint(source.location()) + "|" + fileFingerprint(source.directory().resolve(RESTART_FILE));
        }
        String config = fileFingerprint(source.configFile()) + "|" + fileFingerprint(source.directory().resolve(RESTART_FILE));
        // an exploded WAR is also recycled when its deployment descriptor changes (touch web.xml to redeploy)
        return source.war() ? config + "|" + fileFingerprint(source.location().resolve("WEB-INF").resolve("web.xml")) : config;
    }

    private static String fileFingerprint(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis() + ":" + Files.size(file);
        } catch (IOException e) {
            return "absent";
        }
    }

    private static byte[] readOrNull(Path file) {
        if (!Files.isRegularFile(file)) {
            return null; // reading a pipe would block the scan for good
        }
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            return null;
        }
    }

    private static void stopQuietly(HostedApp app, boolean permanently) {
        if (app != null) {
            app.stop(permanently).exceptionally(e -> {
                log.warn(sm.getString("catalog.stopFailed", app.describe()), e);
                return null;
            });
        }
    }

    /** Stops every app (Tomcat is stopping); completes when all have stopped. */
    public synchronized CompletableFuture<Void> stopAll() {
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        for (Slot slot : byName.values()) {
            slotListener.removed(this, slot);
            Optional.ofNullable(slot.app).ifPresent(app -> stops.add(app.stop(true)));
            Optional.ofNullable(slot.pending).ifPresent(app -> stops.add(app.stop(true)));
            slot.pending = null;
        }
        byName.clear();
        byLongestPath = List.of();
        byPath = ContextPathIndex.empty();
        named = Map.of();
        if (watch != null) {
            watch.close();
            watch = null;
        }
        return CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new));
    }
}
