package dev.portico.hooks.api;

/** An in-process app's Context was stopped and removed (drained first). */
public record ContextStopped(String app, String contextPath, long generation) implements HostingEvent {
}
