package dev.portico.hosting;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

import jakarta.servlet.ServletException;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;

/** One app behind the valve, in whatever state its configuration allows it to be. */
public interface HostedApp {

    /**
     * Answers a request that belongs to this app.
     *
     * @return false when this app (a generation that is being replaced or removed) no longer
     *         takes requests and touched nothing: the caller asks the catalog again
     */
    boolean handle(Request request, Response response) throws IOException, ServletException;

    /**
     * Starts the app now, without waiting for a request, when its configuration says
     * {@code preloadEnabled}. Returns at once; the start goes on in the background.
     */
    default void preloadIfEnabled() {
    }

    /** True when the app is answering requests now (an out-of-process app with a ready process). */
    default boolean isServing() {
        return false;
    }

    /**
     * Starts the app without a request and completes when it can serve, or exceptionally with
     * why it cannot: a recycle switches to a new generation only once this has completed. By
     * default there is nothing to wait for.
     */
    default CompletableFuture<Void> warmUp() {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Starts the app now, whatever {@code preloadEnabled} says (an operator's start). Returns at
     * once; the start goes on in the background. An app that cannot start ignores it.
     */
    default void start() {
    }

    /**
     * Releases what the app holds (its process, its files) so that a deployment can replace it.
     * With {@code permanently} false the next request may bring it back.
     */
    CompletableFuture<Void> stop(boolean permanently);

    /** One line for the log and the status page: what the app is and how it is doing. */
    String describe();

    /** What the app is doing, for the status page, JMX and Portico Express. */
    AppStatus status();
}
