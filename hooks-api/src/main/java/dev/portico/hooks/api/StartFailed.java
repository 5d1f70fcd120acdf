package dev.portico.hooks.api;

/**
 * A process could not be started, exited before it listened, did not listen within
 * startupTimeLimit, or was vetoed: what the 502.5 page shows.
 */
public record StartFailed(String app, long generation, String message, String outputTail) implements HostingEvent {
}
