package dev.portico.integration;

import java.util.logging.Logger;

/**
 * What the integration does when Portico asks the backend to stop (the shutdown request) or when
 * the front Tomcat process is gone. {@link PorticoIntegration} calls it at most once, on a thread
 * of its own, after the answer to the shutdown request has been sent.
 */
@FunctionalInterface
public interface ShutdownAction {

    void shutdown(String reason);

    /**
     * The default in a container the integration does not control (a stand-alone Tomcat, Jetty, …):
     * exit the JVM with status 0. {@code System.exit} runs the container's own shutdown hook, which
     * is what stops it gracefully (Tomcat's Catalina hook pauses the connectors and lets requests
     * in flight finish).
     */
    static ShutdownAction exitJvm() {
        return reason -> {
            Logger.getLogger(ShutdownAction.class.getName())
                    .info(() -> "Portico: " + reason + "; exiting the JVM");
            System.exit(0);
        };
    }
}
