package dev.portico.hooks.api;

/** {@code app_offline.htm} appeared: the app answers with it (503) and its process or Context is stopped. */
public record AppOffline(String app) implements HostingEvent {
}
