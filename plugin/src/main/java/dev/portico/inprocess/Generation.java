package dev.portico.inprocess;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.catalina.util.ContextName;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.AppConfig;
import dev.portico.hooks.api.ContextStarted;
import dev.portico.hooks.api.ContextStopped;
import dev.portico.hosting.AppSource;
import dev.portico.hosting.HostingEvents;
import dev.portico.hosting.InFlight;
import dev.portico.hosting.InternalContainer;
import dev.portico.integration.runner.DirectoryTree;

/**
 * One start of an in-process app: its Context, its start's outcome and the requests it is
 * serving, which it drains before its Context is removed and its files deleted.
 */
final class Generation {

    // InProcessApp's category and messages: moving the code out of it changed no log line
    private static final Log log = LogFactory.getLog(InProcessApp.class);
    private static final StringManager sm = StringManager.getManager(InProcessApp.class);
    private static final AtomicLong GENERATIONS = new AtomicLong();
    /*
     * A generation is a version of its context path (Tomcat's parallel deployment), so a recycled
     * app's next generation can start while the previous one drains. Every request is mapped to
     * its own generation's version and checked against that generation's Context (InProcessApp's
     * handle; the out-of-process side does the same), so the order of versions steers no request.
     * The prefix, which sorts in-process versions below out-of-process ones (19-digit counters
     * from 1), only keeps Context names and expanded-WAR directories spelled as they always were.
     */
    private static final String VERSION_PREFIX = "0000000000000000000";

    private final AppSource source;
    private final AppConfig config;
    private final InternalContainer container;
    private final HostingEvents events;

    final String version = VERSION_PREFIX + String.format("%09d", GENERATIONS.incrementAndGet());
    private final Path workDir;
    private final Path expandedWar;
    private final StdoutCapture stdout;
    final HostedContext context;
    final CompletableFuture<Void> started = new CompletableFuture<>();
    volatile Instant servingSince;
    private final long startDeadline;
    final InFlight requests = new InFlight();
    volatile boolean timedOut;
    /** Started and told so: its stop is told too. */
    private volatile boolean serving;
    private final AtomicBoolean removed = new AtomicBoolean();
    volatile String failure;
    volatile String failureDetails;
    volatile Instant failedAt;

    /** @param workBase the app's work directory, with one directory per generation below it */
    Generation(AppSource source, AppConfig config, InternalContainer container, HostingEvents events,
            Path workBase, HostedContextBuilder contexts) {
        this.source = source;
        this.config = config;
        this.container = container;
        this.events = events;
        workDir = workBase.resolve(version);
        expandedWar = source.packedWar() ? container.host().getAppBaseFile().toPath()
                .resolve(new ContextName(source.contextPath(), version).getBaseName()) : null;
        stdout = new StdoutCapture(source, config);
        context = contexts.newContext(version, workDir, stdout);
        startDeadline = System.nanoTime() + config.startupTimeLimit().toNanos();
    }

    /** Waits for the start (bounded by startupTimeLimit); false when the app cannot serve. */
    boolean awaitStarted() {
        if (!started.isDone()) {
            try {
                started.get(Math.max(0, startDeadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                timedOut();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (ExecutionException e) {
                fail("Portico could not start the application: " + e.getCause(), null);
            }
        }
        return failure == null;
    }

    private void timedOut() {
        String limit = String.valueOf(config.startupTimeLimit().toSeconds());
        if (fail(sm.getString("inProcess.startTimeoutPage", limit), null)) {
            timedOut = true;
            log.error(sm.getString("inProcess.startTimeout", source.name(), limit));
        }
    }

    private synchronized boolean fail(String summary, String details) {
        if (failure != null) {
            return false;
        }
        failureDetails = details;
        failedAt = Instant.now();
        failure = summary;
        return true;
    }

    void start() {
        Throwable thrown = null;
        if (expandedWar != null) {
            // left by a Tomcat that was killed: Tomcat would take a directory without a tracker as expanded
            deleteQuietly(expandedWar);
        }
        try {
            container.addContext(context);
        } catch (RuntimeException | Error e) {
            thrown = e;
        }
        boolean running = thrown == null && context.getState().isAvailable();
        if (!running) {
            String why = context.firstError();
            String details = context.firstErrorDetails();
            if (thrown != null) {
                why = why != null ? why : String.valueOf(thrown.getCause() != null ? thrown.getCause() : thrown);
                details = details != null ? details : HostedContext.stackTrace(thrown);
            }
            if (why == null) {
                why = sm.getString("inProcess.contextFailed", source.name(), context.getStateName());
            }
            fail(why, details);
            log.error(sm.getString("inProcess.startFailed", source.name(), source.location(), why), thrown);
        }
        if (failure != null) {
            // failed, or started after the requests stopped waiting for it: release it
            removeContext();
        } else {
            serving = true;
            servingSince = Instant.now();
            events.tell(new ContextStarted(source.name(), source.contextPath(), Long.parseLong(version)));
        }
        started.complete(null);
    }

    void drainAndRemove() {
        try {
            // a start in progress cannot be interrupted; wait for it (bounded)
            started.get(config.startupTimeLimit().toMillis() + config.shutdownTimeLimit().toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.warn(sm.getString("inProcess.stillStarting", source.name()));
        }
        int left = requests.drain(config.shutdownTimeLimit());
        if (left > 0) {
            log.warn(sm.getString("inProcess.drainTimeout", source.name(), String.valueOf(left),
                    String.valueOf(config.shutdownTimeLimit().toSeconds())));
        }
        removeContext();
    }

    private void removeContext() {
        if (!removed.compareAndSet(false, true)) {
            return; // a failed start already removed it
        }
        context.retire();
        try {
            container.removeContext(context);
        } catch (RuntimeException e) {
            log.warn(sm.getString("inProcess.stopFailed", source.name()), e);
        }
        stdout.close();
        deleteQuietly(workDir);
        if (expandedWar != null) {
            deleteQuietly(expandedWar);
        }
        if (serving) {
            events.tell(new ContextStopped(source.name(), source.contextPath(), Long.parseLong(version)));
        }
    }

    Path stdoutFile() {
        return stdout.file();
    }

    private static void deleteQuietly(Path dir) {
        List<Path> failed = DirectoryTree.delete(dir);
        if (!failed.isEmpty() && log.isDebugEnabled()) {
            log.debug("could not delete " + failed);
        }
    }
}
