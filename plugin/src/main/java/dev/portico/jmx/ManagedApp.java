package dev.portico.jmx;

import java.time.Duration;
import java.time.Instant;
import java.util.stream.Collectors;

import org.apache.tomcat.util.res.StringManager;

import dev.portico.hosting.AppCatalog;
import dev.portico.hosting.AppStatus;

/**
 * What JMX shows of one hosted app ({@code <domain>:type=PorticoApp,host=<host>,name=<path>}),
 * described by this package's mbeans-descriptors.xml: figures read from the app's typed
 * {@link AppStatus} and its slot's request metrics at each read, and the operator's operations,
 * which the catalog's scanning thread carries out within a scan interval. It stays registered
 * across recycles (it follows the app's place in the catalog, not one generation).
 */
public final class ManagedApp {

    private static final StringManager sm = StringManager.getManager(ManagedApp.class);

    private final AppCatalog catalog;
    private final AppCatalog.Slot slot;

    ManagedApp(AppCatalog catalog, AppCatalog.Slot slot) {
        this.catalog = catalog;
        this.slot = slot;
    }

    private AppStatus status() {
        return slot.status();
    }

    public String getName() {
        return slot.source().name();
    }

    public String getPath() {
        return slot.source().displayPath();
    }

    public String getLocation() {
        return slot.source().location().toString();
    }

    public String getModel() {
        return status().model();
    }

    public String getState() {
        return slot.offlinePage() != null ? "offline" : status().state();
    }

    public String getDescription() {
        return status().description();
    }

    public boolean isOffline() {
        return slot.offlinePage() != null;
    }

    public String getOfflineReason() {
        return slot.offlineReason();
    }

    public boolean isHeldOffline() {
        return slot.heldOffline();
    }

    public long getGeneration() {
        return status().generation();
    }

    /**
     * The backend processes' ids, comma-separated ("" in-process or while none runs): a list
     * for people, which jmxproxy's {@code get} prints as it is (it would print an array as
     * {@code [J@1b2c3d}). Typed figures per process come with per-process MBeans.
     */
    public String getPids() {
        return status().processes().stream().map(p -> Long.toString(p.pid())).collect(Collectors.joining(","));
    }

    /** The backend processes' loopback ports, comma-separated, in the order of {@link #getPids()}. */
    public String getPorts() {
        return status().processes().stream().map(p -> Integer.toString(p.port())).collect(Collectors.joining(","));
    }

    /** The backend processes' Unix domain sockets (transport="unix"), comma-separated, in the order of {@link #getPids()}. */
    public String getSockets() {
        return status().processes().stream().map(p -> p.socket() == null ? "" : p.socket().toString())
                .collect(Collectors.joining(","));
    }

    public long getRequests() {
        return slot.metrics().snapshot().requests();
    }

    public long getFailures() {
        return slot.metrics().snapshot().failures();
    }

    public int getInFlight() {
        return status().inFlight();
    }

    public int getStarts() {
        return status().starts();
    }

    public int getCrashes() {
        return status().crashes();
    }

    public String getLastFailure() {
        AppStatus.Failure failure = status().lastFailure();
        return failure == null ? null : failure.message();
    }

    public String getLastFailureAt() {
        AppStatus.Failure failure = status().lastFailure();
        return failure == null || failure.at() == null ? null : failure.at().toString();
    }

    /** Seconds the oldest process has been up; -1 when none is (and for in-process apps, which have no process of their own). */
    public long getUptime() {
        Duration uptime = status().uptime(Instant.now());
        return uptime == null ? -1 : uptime.toSeconds();
    }

    public String getStdoutLogFile() {
        AppStatus status = status();
        return status.stdoutLogFile() == null ? null : status.stdoutLogFile().toString();
    }

    // ---------------------------------------------------------------- operations

    public String recycle() {
        return request(AppCatalog.Operation.RECYCLE);
    }

    public String start() {
        return request(AppCatalog.Operation.START);
    }

    public String stop() {
        return request(AppCatalog.Operation.STOP);
    }

    public String takeOffline() {
        return request(AppCatalog.Operation.TAKE_OFFLINE);
    }

    public String bringOnline() {
        return request(AppCatalog.Operation.BRING_ONLINE);
    }

    /** What the operator reads back (jmxproxy prints it): queued, or why not. */
    private String request(AppCatalog.Operation operation) {
        return catalog.request(getName(), operation)
                ? sm.getString("managedApp.queued", operation.name(), getName())
                : sm.getString("managedApp.refusedOffline", operation.name(), getName(), slot.offlineReason());
    }
}
