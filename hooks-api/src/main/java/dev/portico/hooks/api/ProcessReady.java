package dev.portico.hooks.api;

import java.time.Duration;

/**
 * An out-of-process app's process is listening on its port and gets requests.
 *
 * @param took from the launch to the first accepted connection
 */
public record ProcessReady(String app, long generation, long pid, int port, Duration took) implements HostingEvent {
}
