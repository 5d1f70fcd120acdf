package dev.portico.process;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/** One started child process of an app: what Portico needs to forward to it and to stop it. */
public final class BackendProcess {

    private final Process process;
    private final int port;
    private final String token;
    private final Instant started;
    private final OutputCapture output;

    BackendProcess(Process process, int port, String token, OutputCapture output) {
        this.process = process;
        this.port = port;
        this.token = token;
        this.output = output;
        this.started = Instant.now();
    }

    public int port() {
        return port;
    }

    public String token() {
        return token;
    }

    public long pid() {
        return process.pid();
    }

    public Instant started() {
        return started;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public OutputCapture output() {
        return output;
    }

    Process process() {
        return process;
    }

    CompletableFuture<Process> onExit() {
        return process.onExit();
    }

    @Override
    public String toString() {
        return "pid " + pid() + " on 127.0.0.1:" + port;
    }
}
