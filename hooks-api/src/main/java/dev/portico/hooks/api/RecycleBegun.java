package dev.portico.hooks.api;

/** The app is being replaced by a new generation (changed portico.xml or WAR, or an operator's recycle). */
public record RecycleBegun(String app, long fromGeneration, String reason) implements HostingEvent {
}
