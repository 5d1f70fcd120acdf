package dev.portico.hooks.api;

import java.time.Duration;
import java.time.Instant;

/** After too many failures in a minute, the next start of the app waits until {@code nextAttempt}. */
public record BackoffScheduled(String app, Duration delay, Instant nextAttempt, int failuresInLastMinute)
        implements HostingEvent {
}
