package dev.portico.hooks.api;

/**
 * A process that had been ready is gone.
 *
 * @param exitCode the process's exit code (by a signal: 128 + the signal's number, as the shell shows it)
 * @param crashed true for an exit nobody asked for; false for a stop Portico made (recycle, offline, Tomcat stopping)
 * @param outputTail the last lines the process printed (stdout and stderr), at most about 30 KB
 */
public record ProcessExited(String app, long generation, long pid, int exitCode, boolean crashed, String outputTail)
        implements HostingEvent {
}
