package dev.portico.express;

import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.portico.hosting.AppStatus;

/**
 * Portico Express, the "IIS Express" of Portico:
 * {@code java -jar portico-express.jar [--port N] [--verbose] [APP ...]} runs an embedded Tomcat
 * with the Portico valve and hosts the given apps (default: the bundled sample in both models).
 *
 * <p>Exit status: 0 after Ctrl-C / SIGTERM (Tomcat and every app process stopped) or
 * {@code --help}; 1 when Tomcat cannot start (say, the port is taken); 2 for a bad command line.
 */
public final class PorticoExpress {

    static final int EXIT_OK = 0;
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;

    /** Strong references: a logger whose level was set must not be collected. */
    private static final List<Logger> CONFIGURED_LOGGERS = new ArrayList<>();

    private PorticoExpress() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine commandLine;
        try {
            commandLine = CommandLine.parse(args);
        } catch (CommandLine.UsageException e) {
            err.println("portico-express: " + e.getMessage());
            err.println(CommandLine.USAGE_LINE);
            err.println("Run with --help for details.");
            return EXIT_USAGE;
        }
        if (commandLine.help()) {
            out.println(CommandLine.USAGE);
            return EXIT_OK;
        }
        configureLogging(commandLine.verbose());

        ExpressServer server = prepare(commandLine, err);
        if (server == null) {
            return EXIT_FAILED;
        }
        Stopper stopper = new Stopper(server, out);
        Runtime.getRuntime().addShutdownHook(new Thread(stopper::stopFromHook, "portico-express-stop"));
        stopper.handleSignals();
        if (!start(server, commandLine.port(), err)) {
            return EXIT_FAILED;
        }
        out.println("Portico Express " + version() + " (" + org.apache.catalina.util.ServerInfo.getServerInfo()
                + ", Java " + Runtime.version().feature() + "), CATALINA_BASE " + server.base());
        describeApps(server, commandLine, out);
        out.println("Portico Express listening on " + server.url("/"));
        out.println("Press Ctrl-C to stop.");
        out.flush();

        stopper.awaitSignal();
        stopper.stop();
        return EXIT_OK;
    }

    /** The server with its apps laid out, or null after saying on {@code err} why not. */
    private static ExpressServer prepare(CommandLine commandLine, PrintStream err) {
        try {
            return ExpressServer.prepare(commandLine);
        } catch (IOException | RuntimeException e) {
            err.println("Portico Express: cannot prepare the apps: " + e.getMessage());
            return null;
        }
    }

    /** Starts Tomcat; false (the server closed) after saying on {@code err} why it could not. */
    private static boolean start(ExpressServer server, int port, PrintStream err) {
        try {
            server.start(port);
            return true;
        } catch (Exception e) {
            err.println("Portico Express: cannot start on 127.0.0.1:" + port + ": " + reason(e));
            server.close();
            return false;
        }
    }

    /** One line per hosted app: its URL and, in plain words, how it is hosted. */
    private static void describeApps(ExpressServer server, CommandLine commandLine, PrintStream out) {
        Map<String, String> hosted = server.hostedApps();
        Map<String, AppStatus> statuses = server.appStatuses();
        int width = hosted.keySet().stream().mapToInt(path -> server.url(path).length()).max().orElse(0);
        hosted.forEach((path, description) -> out.println("  " + pad(server.url(path), width) + "  " + description
                + whenItStarts(statuses.get(path))));
        for (CommandLine.App app : commandLine.apps()) {
            if (!hosted.containsKey(app.displayPath())) {
                out.println("  " + app.source() + " was not picked up by Portico; see the log above");
            }
        }
    }

    /** For an app that waits for its first request, what that request will do. */
    static String whenItStarts(AppStatus status) {
        if (status == null || !"idle".equals(status.state())) {
            return "";
        }
        return "outOfProcess".equals(status.model()) ? " (the process starts on the first request)"
                : " (starts on the first request, inside this JVM)";
    }

    private static String pad(String text, int width) {
        return text + " ".repeat(Math.max(0, width - text.length()));
    }

    private static String reason(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof BindException) {
                return "the port is in use (" + cause.getMessage() + ")";
            }
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + root + ")";
    }

    private static String version() {
        String version = PorticoExpress.class.getPackage().getImplementationVersion();
        return version == null ? "(development build)" : version;
    }

    /**
     * One line per record on stderr. Portico's own INFO lines (processes started and stopped) are
     * shown; Tomcat's (and the hooks' Weld's) only from WARNING up, unless --verbose. A user's logging
     * configuration wins.
     */
    private static void configureLogging(boolean verbose) {
        if (System.getProperty("java.util.logging.config.file") != null
                || System.getProperty("java.util.logging.config.class") != null) {
            return;
        }
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT %4$s [%3$s] %5$s%6$s%n");
        }
        if (!verbose) {
            for (String name : List.of("org.apache", "jakarta", "org.jboss")) {
                Logger logger = Logger.getLogger(name);
                logger.setLevel(Level.WARNING);
                CONFIGURED_LOGGERS.add(logger);
            }
        }
    }

    /**
     * Ctrl-C and SIGTERM stop Tomcat on the main thread and the JVM exits 0; a second signal while
     * stopping halts at once. Where signals cannot be handled (or on any other exit), the
     * shutdown hook still stops Tomcat, so no app process is left behind.
     */
    private static final class Stopper {
        private final ExpressServer server;
        private final PrintStream out;
        private final CountDownLatch signalled = new CountDownLatch(1);
        private final AtomicInteger signals = new AtomicInteger();

        Stopper(ExpressServer server, PrintStream out) {
            this.server = server;
            this.out = out;
        }

        void handleSignals() {
            for (String name : List.of("INT", "TERM")) {
                try {
                    sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> onSignal(signal.getName()));
                } catch (IllegalArgumentException | UnsupportedOperationException e) {
                    // not on this platform: the shutdown hook does the work
                }
            }
        }

        private void onSignal(String name) {
            if (signals.incrementAndGet() > 1) {
                out.println("Portico Express: SIG" + name + " again, halting now");
                out.flush();
                Runtime.getRuntime().halt(130);
            }
            signalled.countDown();
        }

        void awaitSignal() {
            boolean interrupted = false;
            while (true) {
                try {
                    signalled.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        void stop() {
            out.println("Portico Express stopping (apps and their processes)...");
            out.flush();
            server.close();
            out.println("Portico Express stopped.");
            out.flush();
        }

        void stopFromHook() {
            server.close();
        }
    }
}
