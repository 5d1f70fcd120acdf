package dev.portico.hooks.api;

/** {@code app_offline.htm} went away: the app serves again. */
public record AppOnline(String app) implements HostingEvent {
}
