package dev.portico.hooks.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An out-of-process app's process is about to be started: synchronous observers
 * ({@code @Observes}) may add {@link #arguments()} and {@link #environment()} variables — secrets
 * from a vault, say — or {@link #veto} the start. Both start empty: they hold what the hooks add.
 * The arguments are appended after the app's configured ones; the variables are set after the
 * app's own environmentVariables (a hook may override those) and below Portico's {@code PORTICO_*}
 * variables, which it cannot change. Portico waits for them up to the valve's
 * {@code hookTimeLimit}; what they changed after that is ignored and the process starts as it
 * was. Asynchronous observers do not receive this event (it is a question, not a notification).
 *
 * <p>A veto fails the start as any failed start does: the request gets the 502.5 page, which
 * shows the reason (unless disableStartUpErrorPage), and the failure counts towards
 * rapidFailsPerMinute. Values of environment variables are never logged by Portico.
 */
public final class ProcessStarting implements HostingEvent {

    private final String app;
    private final long generation;
    private final List<String> arguments;
    private final Map<String, String> environment;
    private volatile String vetoReason;

    /**
     * @param arguments arguments added so far (copied)
     * @param environment variables added so far (copied)
     */
    public ProcessStarting(String app, long generation, List<String> arguments, Map<String, String> environment) {
        this.app = app;
        this.generation = generation;
        this.arguments = new ArrayList<>(arguments);
        this.environment = new LinkedHashMap<>(environment);
    }

    @Override
    public String app() {
        return app;
    }

    public long generation() {
        return generation;
    }

    /** The arguments to append, mutable. */
    public List<String> arguments() {
        return arguments;
    }

    /** The variables to add, mutable. */
    public Map<String, String> environment() {
        return environment;
    }

    /** Refuses the start; the first veto's reason is the one shown. */
    public synchronized void veto(String reason) {
        if (vetoReason == null) {
            vetoReason = Objects.requireNonNullElse(reason, "(no reason given)");
        }
    }

    public boolean vetoed() {
        return vetoReason != null;
    }

    /** The reason of the veto, or null. */
    public String vetoReason() {
        return vetoReason;
    }

    @Override
    public String toString() {
        return "ProcessStarting[app=" + app + ", generation=" + generation + ", vetoed=" + vetoed() + "]";
    }
}
