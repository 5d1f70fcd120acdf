package dev.portico.jmx;

import java.time.Duration;
import java.time.Instant;

import dev.portico.hosting.AppCatalog;
import dev.portico.hosting.AppStatus;

/**
 * What JMX shows of one backend process of an out-of-process app
 * ({@code <domain>:type=PorticoProcess,host=<host>,app=<path>,pid=<pid>}), read from the app's
 * typed status at each read; registered when the process is ready, removed when it exits.
 */
public final class ManagedProcess {

    private final AppCatalog.Slot slot;
    private final long pid;

    ManagedProcess(AppCatalog.Slot slot, long pid) {
        this.slot = slot;
        this.pid = pid;
    }

    /** This process's entry, or null once the app no longer lists it. */
    private AppStatus.ProcessStatus status() {
        for (AppStatus.ProcessStatus process : slot.status().processes()) {
            if (process.pid() == pid) {
                return process;
            }
        }
        return null;
    }

    public String getApp() {
        return slot.source().name();
    }

    public long getPid() {
        return pid;
    }

    public int getPort() {
        AppStatus.ProcessStatus status = status();
        return status == null ? -1 : status.port();
    }

    /** The Unix domain socket it listens on (transport="unix"), or empty. */
    public String getSocket() {
        AppStatus.ProcessStatus status = status();
        return status == null || status.socket() == null ? "" : status.socket().toString();
    }

    public String getState() {
        AppStatus.ProcessStatus status = status();
        return status == null ? "stopped" : status.state();
    }

    public long getGeneration() {
        AppStatus.ProcessStatus status = status();
        return status == null ? -1 : status.generation();
    }

    public long getRequests() {
        AppStatus.ProcessStatus status = status();
        return status == null ? 0 : status.requests();
    }

    public int getInFlight() {
        AppStatus.ProcessStatus status = status();
        return status == null ? 0 : status.inFlight();
    }

    public String getStartedAt() {
        AppStatus.ProcessStatus status = status();
        return status == null || status.startedAt() == null ? "" : status.startedAt().toString();
    }

    /** Seconds since the process started, or -1. */
    public long getUptime() {
        AppStatus.ProcessStatus status = status();
        return status == null || status.startedAt() == null ? -1
                : Duration.between(status.startedAt(), Instant.now()).toSeconds();
    }

    public long getResidentBytes() {
        AppStatus.ProcessStatus status = status();
        return status == null ? -1 : status.residentBytes();
    }

    public String getLastFailure() {
        AppStatus.ProcessStatus status = status();
        return status == null || status.lastFailure() == null ? "" : status.lastFailure().message();
    }
}
