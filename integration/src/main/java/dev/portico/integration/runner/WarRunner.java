package dev.portico.integration.runner;

import java.net.BindException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Portico's WAR runner: hosts one web application in an embedded Tomcat in its own JVM, for WARs
 * with {@code hostingModel="outOfProcess"} and no {@code processPath}.
 *
 * <pre>
 * java -cp tomcat-embed-core.jar:tomcat-annotations-api.jar[:jasper, el, ecj, websocket jars]:portico-integration.jar \
 *      dev.portico.integration.runner.WarRunner &lt;app.war | exploded directory&gt;
 * </pre>
 *
 * Reads {@code PORTICO_PORT}, {@code PORTICO_TOKEN} (both required), {@code PORTICO_PATH_BASE},
 * {@code PORTICO_PARENT_PID} and {@code PORTICO_WORK_DIR}. Exit status: 0 after a shutdown request
 * or when the parent process is gone; 2 for a bad argument or environment; 3 when the port cannot be
 * bound (Portico retries on another port); 1 when the application fails to start. SIGTERM stops
 * Tomcat gracefully through a shutdown hook.
 */
public final class WarRunner {

    static final int EXIT_START_FAILED = 1;
    static final int EXIT_USAGE = 2;
    static final int EXIT_BIND_FAILED = 3;

    private static final String USAGE = "usage: java -cp <tomcat jars>:<portico-integration jar> "
            + WarRunner.class.getName() + " <app.war | exploded web application directory>";

    private WarRunner() {
    }

    public static void main(String[] args) throws InterruptedException {
        useOneLineLogFormat();
        Logger log = Logger.getLogger(WarRunner.class.getName());
        RunnerConfig config;
        try {
            config = RunnerConfig.parse(args, System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("Portico WAR runner: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(EXIT_USAGE);
            return;
        }

        EmbeddedWebappServer server = new EmbeddedWebappServer(config);
        // SIGTERM (and any System.exit) stops Tomcat gracefully; stop() runs only once.
        Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "portico-runner-stop-hook"));
        try {
            server.start(reason -> {
                log.info(() -> "Stopping: " + reason);
                server.stop();
                System.exit(0);
            });
        } catch (Exception e) {
            BindException bindFailure = bindFailure(e);
            if (bindFailure != null) {
                // Expected now and then (the port was taken since Portico picked it): no stack trace.
                log.severe(() -> e.getMessage() + ": " + bindFailure.getMessage());
                System.exit(EXIT_BIND_FAILED);
            } else {
                log.log(Level.SEVERE, "Portico WAR runner failed to start: " + e.getMessage(), e);
                System.exit(EXIT_START_FAILED);
            }
            return;
        }
        log.info(() -> "Serving " + config.app() + " at http://" + EmbeddedWebappServer.LOOPBACK + ":"
                + server.localPort() + config.pathBase() + "/");
        server.awaitStop();
    }

    private static BindException bindFailure(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof BindException bindException) {
                return bindException;
            }
        }
        return null;
    }

    /** One line per record on stderr, unless the user configured logging. */
    private static void useOneLineLogFormat() {
        if (System.getProperty("java.util.logging.config.file") == null
                && System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format",
                    "%1$tF %1$tT.%1$tL %4$s [%3$s] %5$s%6$s%n");
        }
    }
}
