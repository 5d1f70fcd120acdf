package dev.portico.hooks.api;

/** An app left appBase (or is replaced by its next deployment) and has been stopped. */
public record AppRemoved(String app, String contextPath) implements HostingEvent {
}
