package dev.portico.hosting;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.hooks.api.AppDeployed;
import dev.portico.hooks.api.AppOffline;
import dev.portico.hooks.api.AppOnline;
import dev.portico.hooks.api.RecycleBegun;
import dev.portico.hooks.api.RecycleFinished;
import dev.portico.hosting.AppCatalog.Operation;
import dev.portico.hosting.AppCatalog.Slot;

/**
 * Brings one app's slot in line with its files and its operator: a changed portico.xml, WAR,
 * web.xml or restart.txt gives a new generation (warmed up beside a serving one, else switched
 * to at once), app_offline.htm and the operator's hold take the app offline and back, and the
 * operators' operations are carried out here.
 */
final class SlotRefresher {

    /** What requests get while an operator holds an app offline and it has no app_offline.htm of its own. */
    private static final byte[] OPERATOR_OFFLINE_PAGE = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            + "<title>Service Unavailable</title></head><body>\n<h1>Service Unavailable</h1>\n"
            + "<p>This application has been taken offline for maintenance. Please try again shortly.</p>\n"
            + "</body></html>\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);

    // the catalog's category and messages: moving the code out of AppCatalog changed no log line
    private static final Log log = LogFactory.getLog(AppCatalog.class);
    private static final StringManager sm = StringManager.getManager(AppCatalog.class);

    /** The catalog's lock: a warm-up ends on another thread, and its switch must not race a scan. */
    private final Object catalogLock;
    private final AppBuilder builder;
    private final HostingEvents events;

    SlotRefresher(Object catalogLock, AppBuilder builder, HostingEvents events) {
        this.catalogLock = catalogLock;
        this.builder = builder;
        this.events = events;
    }

    void refresh(Slot slot) {
        boolean rebuilt = rebuildIfChanged(slot);
        boolean backOnline = followOffline(slot);
        if ((rebuilt || backOnline) && slot.offlinePage == null) {
            slot.app.preloadIfEnabled();
        }
    }

    /** @return true when the slot's app was replaced by one nothing has started yet */
    private boolean rebuildIfChanged(Slot slot) {
        AppSource source = slot.source();
        String fingerprint = fingerprint(source);
        if (fingerprint.equals(slot.fingerprint)) {
            return false;
        }
        HostedApp old = slot.app;
        if (old != null) {
            log.info(slot.rebuildReason != null ? slot.rebuildReason : sm.getString("catalog.recycle", source.name()));
        }
        slot.rebuildReason = null;
        slot.fingerprint = fingerprint;
        HostedApp next = builder.build(source);
        if (old != null && old.isServing() && slot.offlinePage == null) {
            deployBeside(slot, old, next);
            return false; // the warm-up has started it
        }
        stopQuietly(slot.pending, true);
        slot.pending = null;
        switchTo(slot, next);
        stopQuietly(old, true);
        return true;
    }

    /**
     * Follows app_offline.htm and the operator's hold.
     *
     * @return true when the app has just come back online
     */
    private boolean followOffline(Slot slot) {
        AppSource source = slot.source();
        Path offline = source.directory().resolve(AppCatalog.APP_OFFLINE);
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
            events.tell(new AppOffline(source.name()));
            stopQuietly(slot.app, false);
        } else if (page == null && wasOffline) {
            log.info(sm.getString("catalog.online", source.name()));
            events.tell(new AppOnline(source.name()));
            return true;
        }
        return false;
    }

    private void switchTo(Slot slot, HostedApp next) {
        AppSource source = slot.source();
        slot.app = next;
        slot.deploymentFailure = null;
        log.info(sm.getString("catalog.hosted", source.name(), source.displayPath(), next.describe()));
        AppStatus status = next.status();
        events.tell(new AppDeployed(source.name(), source.contextPath(), status.model(), status.generation()));
    }

    /**
     * Zero-downtime recycle: the new generation starts beside the serving one, which keeps every
     * request until the new one is ready; then new requests go to the new one and the old one
     * drains and stops. A new generation that never gets ready is stopped and the old one goes
     * on serving (deployment-error resistance); the next change or restart.txt tries again.
     */
    private void deployBeside(Slot slot, HostedApp old, HostedApp next) {
        AppSource source = slot.source();
        stopQuietly(slot.pending, true);
        slot.pending = next;
        long from = old.status().generation();
        log.info(sm.getString("catalog.warming", source.name(), next.describe()));
        events.tell(new RecycleBegun(source.name(), from, sm.getString("catalog.recycleReason")));
        CompletableFuture<Void> ready;
        try {
            ready = next.warmUp();
        } catch (RuntimeException e) {
            ready = CompletableFuture.failedFuture(e);
        }
        ready.whenComplete((ignored, failure) -> switchOver(slot, old, next, failure));
    }

    private void switchOver(Slot slot, HostedApp old, HostedApp next, Throwable failure) {
        synchronized (catalogLock) {
            if (slot.pending != next) {
                return; // superseded by a newer change, or the app was removed: whoever did that stopped it
            }
            slot.pending = null;
            AppSource source = slot.source();
            long generation = next.status().generation();
            if (failure == null) {
                switchTo(slot, next);
                log.info(sm.getString("catalog.switched", source.name(), String.valueOf(generation)));
                events.tell(new RecycleFinished(source.name(), generation, true, ""));
                stopQuietly(old, true);
                return;
            }
            keepServing(slot, next, generation, failure);
        }
    }

    /** The new generation never got ready: it goes, and its failure shows in the serving one's status. */
    private void keepServing(Slot slot, HostedApp next, long generation, Throwable failure) {
        AppSource source = slot.source();
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        String message = sm.getString("catalog.deployFailed", source.name(), String.valueOf(generation),
                cause.getMessage() == null ? cause.toString() : cause.getMessage());
        String tail = cause instanceof StartFailure start ? start.outputTail() : "";
        log.error(message + (tail.isEmpty() ? "" : System.lineSeparator() + tail));
        slot.deploymentFailure = new AppStatus.Failure(java.time.Instant.now(), message);
        events.tell(new RecycleFinished(source.name(), generation, false, message));
        stopQuietly(next, true);
    }

    void carryOut(Slot slot, Operation operation) {
        String name = slot.source().name();
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

    /** The app left appBase: both its generations stop for good. */
    void retire(Slot slot) {
        stopQuietly(slot.app, true);
        stopQuietly(slot.pending, true);
        slot.pending = null;
    }

    private static String fingerprint(AppSource source) {
        if (source.packedWar()) {
            return fileFingerprint(source.location()) + "|" + fileFingerprint(source.directory().resolve(AppCatalog.RESTART_FILE));
        }
        String config = fileFingerprint(source.configFile()) + "|" + fileFingerprint(source.directory().resolve(AppCatalog.RESTART_FILE));
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
}
