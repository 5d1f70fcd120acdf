package dev.portico.hooks.api;

/**
 * A transition of a hosted app. {@link #app()} is the app's name in the valve's appBase (the
 * directory or WAR name without {@code .war}; {@code ROOT} for the root app).
 */
public sealed interface HostingEvent permits AppDeployed, AppRemoved, AppOffline, AppOnline, ProcessStarting,
        ProcessReady, ProcessExited, StartFailed, BackoffScheduled, RecycleBegun, RecycleFinished, ContextStarted,
        ContextStopped {

    String app();
}
