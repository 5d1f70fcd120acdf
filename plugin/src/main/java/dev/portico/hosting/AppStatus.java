package dev.portico.hosting;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What one hosted app is doing, as the status page, JMX and Portico Express read it: typed
 * figures, never a description to parse.
 *
 * @param model {@code inProcess}, {@code outOfProcess} or {@code misconfigured}
 * @param state the app's state in lower case: {@code idle}, {@code starting}, {@code running},
 *        {@code backoff}, {@code stopping}, {@code stopped}, {@code failed} …
 * @param description one line for people (the same as {@link HostedApp#describe()})
 * @param generation which deployment of the app this is; a recycle makes a new one
 * @param starts processes (or Contexts) started so far
 * @param crashes unrequested exits of processes that had been ready
 * @param inFlight requests being answered now
 * @param lastFailure the latest failed start, crash or failed deployment, or null
 * @param nextAttemptAt when a start held back by backoff will next be tried, or null
 * @param stdoutLogFile the stdout log being written, or null
 * @param processes one entry per process of an out-of-process app (empty in-process)
 * @param runningSince when an in-process app's Context started, or null (out-of-process apps have it per process)
 */
public record AppStatus(String model, String state, String description, long generation, int starts, int crashes,
        int inFlight, Failure lastFailure, Instant nextAttemptAt, Path stdoutLogFile, List<ProcessStatus> processes,
        Instant runningSince) {

    public AppStatus {
        processes = List.copyOf(processes);
    }

    /**
     * How long the app has been up: in-process since its Context started; out-of-process since
     * the oldest process was ready (else started); null when nothing is up.
     */
    public Duration uptime(Instant now) {
        Instant since = runningSince;
        for (ProcessStatus process : processes) {
            Instant up = process.readyAt() != null ? process.readyAt() : process.startedAt();
            if (up != null && (since == null || up.isBefore(since))) {
                since = up;
            }
        }
        return since == null ? null : Duration.between(since, now);
    }

    /** A failure worth showing an operator: when it happened and what the log said. */
    public record Failure(Instant at, String message) {
    }

    /**
     * One backend process.
     *
     * @param port the loopback port it listens on, or -1 when it listens on {@code socket}
     * @param socket the Unix domain socket it listens on (transport="unix"), or null
     * @param state {@code starting}, {@code ready}, {@code draining}, {@code ejected}, {@code stopped}
     * @param residentBytes resident memory of the process and its descendants, or -1 when unknown
     */
    public record ProcessStatus(long pid, int port, java.nio.file.Path socket, String state, long generation, long requests, int inFlight,
            Instant startedAt, Instant readyAt, long residentBytes, Failure lastFailure) {
    }
}
