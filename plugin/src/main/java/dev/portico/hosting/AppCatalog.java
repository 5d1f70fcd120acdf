package dev.portico.hosting;

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

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.PorticoXml;
import dev.portico.hooks.api.AppRemoved;

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

    private static final Log log = LogFactory.getLog(AppCatalog.class);
    private static final StringManager sm = StringManager.getManager(AppCatalog.class);

    private final AppBaseScan appBase;
    private final SlotRefresher refresher;
    private final HostingEvents events;
    private final SlotListener slotListener;
    /** Every hosted app by name; changed only under the catalog's lock. */
    private final Map<String, Slot> byName = new HashMap<>();
    private final Queue<Command> commands = new ConcurrentLinkedQueue<>();
    /** What request threads read, replaced whenever an app comes or goes: one write, so no reader sees half of it. */
    private volatile Hosted hosted = Hosted.NONE;

    /** The hosted apps, by longest context path first, by path for requests, by name for operators. */
    private record Hosted(List<Slot> byLongestPath, ContextPathIndex<Slot> byPath, Map<String, Slot> byName) {
        static final Hosted NONE = new Hosted(List.of(), ContextPathIndex.empty(), Map.of());
    }

    public AppCatalog(Path appBase, PorticoXml parser, HostingEvents events, AppFactory factory,
            boolean showConfigDetails, SlotListener slotListener) {
        this.slotListener = slotListener;
        this.appBase = new AppBaseScan(appBase);
        this.events = events;
        this.refresher = new SlotRefresher(this, new AppBuilder(parser, factory, showConfigDetails), events);
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

    /**
     * One hosted app's place in the catalog: the app itself, whether it is offline, and its request
     * figures. Its state is switched by {@link SlotRefresher}, under the catalog's lock.
     */
    public static final class Slot {
        private final AppSource source;
        private final AppMetrics metrics = new AppMetrics();
        volatile HostedApp app;
        volatile byte[] offlinePage;
        volatile boolean heldOffline;
        volatile byte[] offlineFile;
        /** The next generation while it warms up beside the serving one. */
        HostedApp pending;
        volatile AppStatus.Failure deploymentFailure;
        String fingerprint;
        String offlineFingerprint;
        String rebuildReason;

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
        return hosted.byPath().match(decodedUri);
    }

    public List<Slot> slots() {
        return hosted.byLongestPath();
    }

    /** The hosted app of that name (its directory or WAR name; "ROOT" for /), or null. */
    public Slot slot(String name) {
        return hosted.byName().get(name);
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
        appBase.startWatching();
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
        Map<String, AppSource> found = appBase.everything(rewatch, byName);
        Set<String> names = new HashSet<>(byName.keySet());
        names.addAll(found.keySet());
        reconcile(names, found);
    }

    /**
     * Acts on the changes the watch reported since the last update, and on operators' requests;
     * called every scanInterval. A name whose files are still changing (a WAR being copied) waits
     * until an update finds them quiet. Costs nothing when nothing changed.
     */
    public synchronized void update() {
        if (!appBase.watching()) {
            scan();
            return;
        }
        Set<String> quiet = appBase.settledChanges();
        if (quiet == null) {
            scan(true);
            return;
        }
        if (quiet.isEmpty() && commands.isEmpty()) {
            return;
        }
        reconcile(quiet, appBase.only(quiet));
    }

    /**
     * Brings the apps of these names in line with {@code found} (what appBase holds of them),
     * and carries out the operators' requests.
     */
    private void reconcile(Set<String> names, Map<String, AppSource> found) {
        boolean removed = removeGone(names, found);
        Set<String> refresh = new LinkedHashSet<>(found.keySet());
        refresh.addAll(carryOutRequests());
        List<Slot> added = new ArrayList<>();
        for (String name : refresh) {
            Slot slot = byName.get(name);
            if (slot == null) {
                slot = new Slot(found.get(name));
                byName.put(name, slot);
                added.add(slot);
            }
            refresher.refresh(slot);
        }
        if (removed || !added.isEmpty()) {
            publish();
            for (Slot slot : added) {
                slotListener.added(this, slot);
            }
        }
    }

    /** Stops and drops the apps of these names that appBase no longer holds as they were; true when any went. */
    private boolean removeGone(Set<String> names, Map<String, AppSource> found) {
        boolean removed = false;
        for (String name : names) {
            Slot slot = byName.get(name);
            if (slot != null && !slot.source.equals(found.get(name))) {
                log.info(sm.getString("catalog.removed", slot.source.name(), slot.source.location()));
                refresher.retire(slot);
                events.tell(new AppRemoved(slot.source.name(), slot.source.contextPath()));
                slotListener.removed(this, slot);
                byName.remove(name);
                removed = true;
            }
        }
        return removed;
    }

    /** Carries out the operators' requests, in the order they came; the names of the apps they were for. */
    private List<String> carryOutRequests() {
        List<String> done = new ArrayList<>();
        for (Command command; (command = commands.poll()) != null;) {
            Slot slot = byName.get(command.name());
            if (slot != null) {
                refresher.carryOut(slot, command.operation());
                done.add(command.name());
            }
        }
        return done;
    }

    /** New snapshots for the request threads. */
    private void publish() {
        List<Slot> sorted = new ArrayList<>(byName.values());
        sorted.sort(Comparator.comparingInt((Slot s) -> s.source.contextPath().length()).reversed());
        hosted = new Hosted(List.copyOf(sorted), ContextPathIndex.of(sorted, slot -> slot.source.contextPath()),
                Map.copyOf(byName));
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
        hosted = Hosted.NONE;
        appBase.stopWatching();
        return CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new));
    }
}
