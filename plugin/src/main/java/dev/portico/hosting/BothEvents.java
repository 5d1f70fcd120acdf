package dev.portico.hosting;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Tells every hosting transition to two observers, the first one first (a veto of the first stands). */
public final class BothEvents implements HostingEvents {

    private final HostingEvents first;
    private final HostingEvents second;

    private BothEvents(HostingEvents first, HostingEvents second) {
        this.first = first;
        this.second = second;
    }

    public static HostingEvents of(HostingEvents first, HostingEvents second) {
        return first == NONE ? second : second == NONE ? first : new BothEvents(first, second);
    }

    @Override
    public void appDeployed(String app, String contextPath, String model, long generation) {
        first.appDeployed(app, contextPath, model, generation);
        second.appDeployed(app, contextPath, model, generation);
    }

    @Override
    public void appRemoved(String app, String contextPath) {
        first.appRemoved(app, contextPath);
        second.appRemoved(app, contextPath);
    }

    @Override
    public void appOffline(String app) {
        first.appOffline(app);
        second.appOffline(app);
    }

    @Override
    public void appOnline(String app) {
        first.appOnline(app);
        second.appOnline(app);
    }

    @Override
    public void processStarting(String app, long generation, List<String> arguments, Map<String, String> environment)
            throws StartVetoed {
        first.processStarting(app, generation, arguments, environment);
        second.processStarting(app, generation, arguments, environment);
    }

    @Override
    public void processReady(String app, long generation, long pid, int port, Duration took) {
        first.processReady(app, generation, pid, port, took);
        second.processReady(app, generation, pid, port, took);
    }

    @Override
    public void processExited(String app, long generation, long pid, int exitCode, boolean crashed, String outputTail) {
        first.processExited(app, generation, pid, exitCode, crashed, outputTail);
        second.processExited(app, generation, pid, exitCode, crashed, outputTail);
    }

    @Override
    public void startFailed(String app, long generation, String message, String outputTail) {
        first.startFailed(app, generation, message, outputTail);
        second.startFailed(app, generation, message, outputTail);
    }

    @Override
    public void backoffScheduled(String app, Duration delay, Instant nextAttempt, int failuresInLastMinute) {
        first.backoffScheduled(app, delay, nextAttempt, failuresInLastMinute);
        second.backoffScheduled(app, delay, nextAttempt, failuresInLastMinute);
    }

    @Override
    public void recycleBegun(String app, long fromGeneration, String reason) {
        first.recycleBegun(app, fromGeneration, reason);
        second.recycleBegun(app, fromGeneration, reason);
    }

    @Override
    public void recycleFinished(String app, long toGeneration, boolean succeeded, String message) {
        first.recycleFinished(app, toGeneration, succeeded, message);
        second.recycleFinished(app, toGeneration, succeeded, message);
    }

    @Override
    public void contextStarted(String app, String contextPath, long generation) {
        first.contextStarted(app, contextPath, generation);
        second.contextStarted(app, contextPath, generation);
    }

    @Override
    public void contextStopped(String app, String contextPath, long generation) {
        first.contextStopped(app, contextPath, generation);
        second.contextStopped(app, contextPath, generation);
    }
}
