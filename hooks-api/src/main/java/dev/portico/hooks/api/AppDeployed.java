package dev.portico.hooks.api;

/**
 * An app was found in appBase (or its configuration changed) and is hosted from now on.
 *
 * @param contextPath the path it is served at, {@code ""} for the root app
 * @param model {@code inProcess}, {@code outOfProcess} or {@code misconfigured} (an invalid portico.xml)
 * @param generation which deployment of the app this is
 */
public record AppDeployed(String app, String contextPath, String model, long generation) implements HostingEvent {
}
