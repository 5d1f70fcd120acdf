package dev.portico.hosting;

import java.nio.file.Path;

/** Why an app's process could not be started; what the 502.5 page and the log line show. */
public final class StartFailure extends Exception {

    private static final long serialVersionUID = 1L;

    private final String outputTail;
    private final transient Path logFile;

    public StartFailure(String message, String outputTail, Path logFile) {
        super(message, null, false, false);
        this.outputTail = outputTail;
        this.logFile = logFile;
    }

    /** The last lines the process printed, or an empty string. */
    public String outputTail() {
        return outputTail == null ? "" : outputTail;
    }

    /** The stdout log of the failed process, or null when logging was off. */
    public Path logFile() {
        return logFile;
    }
}
