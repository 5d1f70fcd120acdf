package dev.portico.hooks.api;

/** An in-process app's Context (one generation of the WAR inside Tomcat) started and serves. */
public record ContextStarted(String app, String contextPath, long generation) implements HostingEvent {
}
