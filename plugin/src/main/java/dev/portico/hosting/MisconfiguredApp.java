package dev.portico.hosting;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;

import dev.portico.config.ConfigException;

/** An app whose portico.xml could not be used: it answers 500.19 until the file is fixed. */
final class MisconfiguredApp implements HostedApp {

    private final ConfigException error;
    private final boolean showDetails;
    private final java.time.Instant failedAt = java.time.Instant.now();

    MisconfiguredApp(ConfigException error, boolean showDetails) {
        this.error = error;
        this.showDetails = showDetails;
    }

    @Override
    public boolean handle(Request request, Response response) throws IOException {
        ErrorPage.configError(error, showDetails).send(response);
        return true;
    }

    /** Never ready: a serving generation is not replaced by a configuration error (it goes on serving). */
    @Override
    public CompletableFuture<Void> warmUp() {
        return CompletableFuture.failedFuture(error);
    }

    @Override
    public CompletableFuture<Void> stop(boolean permanently) {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public AppStatus status() {
        return new AppStatus("misconfigured", "failed", describe(), 0, 0, 0, 0,
                new AppStatus.Failure(failedAt, error.getMessage()), null, null, java.util.List.of(), null);
    }

    @Override
    public String describe() {
        return "invalid configuration: " + error.getMessage();
    }
}
