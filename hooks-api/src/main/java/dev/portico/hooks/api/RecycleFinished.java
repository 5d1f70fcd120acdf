package dev.portico.hooks.api;

/**
 * A recycle ended.
 *
 * @param succeeded false when the new generation never became ready and the old one kept serving
 */
public record RecycleFinished(String app, long toGeneration, boolean succeeded, String message)
        implements HostingEvent {
}
