package dev.portico.hosting;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Every transition of a hosted app, in both models, told to whoever observes hosting (the
 * lifecycle hooks). Each method is called on a Portico thread and must return promptly; an
 * implementation isolates observers that throw or hang, so a call never fails hosting, except
 * {@link #processStarting} which may veto the start.
 */
public interface HostingEvents {

    /** Observes nothing. */
    HostingEvents NONE = new HostingEvents() {
    };

    default void appDeployed(String app, String contextPath, String model, long generation) {
    }

    default void appRemoved(String app, String contextPath) {
    }

    default void appOffline(String app) {
    }

    default void appOnline(String app) {
    }

    /**
     * A process is about to be started. Observers may add to {@code environment} and
     * {@code arguments} (both mutable) or refuse the start.
     *
     * @throws StartVetoed with the reason the 502.5 page shows
     */
    default void processStarting(String app, long generation, List<String> arguments, Map<String, String> environment)
            throws StartVetoed {
    }

    default void processReady(String app, long generation, long pid, int port, Duration took) {
    }

    /** @param crashed true for an exit nobody asked for; false for a stop Portico made */
    default void processExited(String app, long generation, long pid, int exitCode, boolean crashed, String outputTail) {
    }

    default void startFailed(String app, long generation, String message, String outputTail) {
    }

    default void backoffScheduled(String app, Duration delay, Instant nextAttempt, int failuresInLastMinute) {
    }

    default void recycleBegun(String app, long fromGeneration, String reason) {
    }

    /** @param succeeded false when the new generation never became ready and the old one kept serving */
    default void recycleFinished(String app, long toGeneration, boolean succeeded, String message) {
    }

    default void contextStarted(String app, String contextPath, long generation) {
    }

    default void contextStopped(String app, String contextPath, long generation) {
    }

    /** An observer refused to let a process start; the message is shown to the operator. */
    final class StartVetoed extends Exception {
        private static final long serialVersionUID = 1L;

        public StartVetoed(String reason) {
            super(reason);
        }
    }
}
