package dev.portico;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.servlet.ServletException;

import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.Host;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.AppConfig;
import dev.portico.config.Attribute;
import dev.portico.config.HostingModel;
import dev.portico.config.PorticoXml;
import dev.portico.hooks.LifecycleHooks;
import dev.portico.hosting.AppCatalog;
import dev.portico.hosting.AppMetrics;
import dev.portico.hosting.AppSource;
import dev.portico.hosting.AppStatus;
import dev.portico.hosting.ErrorPage;
import dev.portico.hosting.HostedApp;
import dev.portico.hosting.HostingEvents;
import dev.portico.hosting.InternalContainer;
import dev.portico.hosting.PorticoThreads;
import dev.portico.hosting.TomcatInternals;
import dev.portico.inprocess.InProcessApp;
import dev.portico.jmx.AppMBeans;
import dev.portico.outofprocess.OutOfProcessApp;
import dev.portico.outofprocess.forward.BackendClient;
import dev.portico.outofprocess.pool.PoolServices;
import dev.portico.outofprocess.process.ChildRegistry;
import dev.portico.outofprocess.process.SocketDirectory;
import dev.portico.status.StatusAccess;
import dev.portico.status.StatusReport;

/**
 * Portico's shim in the Host pipeline: it maps a request to the hosted app with the longest
 * matching context path, applies the module's policy (app_offline.htm, configuration and start
 * failures) and hands the request to the app's hosting model. A request that belongs to no
 * hosted app continues down the pipeline untouched, so the Host's own webapps keep working.
 *
 * <pre>{@code <Valve className="dev.portico.PorticoValve" appBase="apps" processesPerApplication="2"/>}</pre>
 *
 * Its attributes (the table's, for the Host and as defaults of its apps) are in
 * {@link ValveAttributes}; every one is documented in docs/configuration.md.
 */
public class PorticoValve extends ValveAttributes {

    private static final Log log = LogFactory.getLog(PorticoValve.class);
    private static final StringManager sm = StringManager.getManager(PorticoValve.class);
    private static final Duration THREADS_END_LIMIT = Duration.ofSeconds(5);

    /** Who hears of every hosting transition; the lifecycle hooks when they are configured. */
    private HostingEvents events = HostingEvents.NONE;
    private AppMBeans mbeans;
    /** The statusPath attribute, as the valve started with it (looked at by every request). */
    private String statusPath = "";

    private Path appBasePath;
    private Path workDir;
    private ScheduledExecutorService scheduler;
    private ExecutorService blockingExecutor;
    private ScheduledFuture<?> scanTask;
    private ScheduledFuture<?> rescanTask;
    private BackendClient backendClient;
    private InternalContainer internal;
    private AppCatalog catalog;
    private StatusAccess statusAccess;
    private LifecycleHooks hooks;

    // ---------------------------------------------------------------- lifecycle

    @Override
    protected void startInternal() throws LifecycleException {
        Host host = frontHost();
        requireConsistentAttributes();
        Path base = host.getCatalinaBase().toPath();
        appBasePath = base.resolve(settings.<String>get(Attribute.APP_BASE)).normalize();
        workDir = base.resolve("work").resolve("Portico").resolve(host.getName());
        ChildRegistry registry = new ChildRegistry(workDir.resolve("children.txt"));
        int reaped = registry.reapLeftovers();
        if (reaped > 0) {
            log.warn(sm.getString("valve.reaped", String.valueOf(reaped)));
        }
        // after the reaping: no process of an earlier Tomcat listens on them any more
        SocketDirectory sockets = SocketDirectory.in(workDir);
        sockets.removeStale();
        scheduler = Executors.newScheduledThreadPool(2, new PorticoThreads("portico-scheduler"));
        blockingExecutor = Executors.newCachedThreadPool(new PorticoThreads("portico-lifecycle"));
        try {
            backendClient = new BackendClient("portico-forward", settings.get(Attribute.FORWARDING_THREADS),
                    settings.get(Attribute.REQUEST_TIMEOUT), settings.get(Attribute.BACKEND_IDLE_TIMEOUT));
        } catch (Exception e) {
            throw new LifecycleException(sm.getString("valve.clientFailed"), e);
        }
        statusPath = settings.get(Attribute.STATUS_PATH);
        statusAccess = new StatusAccess(host, settings.get(Attribute.STATUS_ROLES));
        hooks = LifecycleHooks.start(base.resolve(settings.<String>get(Attribute.HOOKS_PATH)).normalize(),
                workDir.resolve("hooks"), settings.get(Attribute.HOOK_TIME_LIMIT), scheduler, "portico-" + host.getName());
        mbeans = new AppMBeans(getDomain(), host.getName());
        events = HostingEvents.inOrder(hooks == null ? HostingEvents.NONE : hooks, mbeans);
        internal = new InternalContainer(host, Container.getService(host).getServer(), workDir.resolve("wars"));
        internal.start();
        PoolServices services = new PoolServices(registry, scheduler, blockingExecutor,
                new PorticoThreads("portico-stdout"), events, backendClient, sockets, java.time.Clock.systemUTC());
        startCatalog(host, services);
        log.info(sm.getString("valve.started", host.getName(), appBasePath,
                String.valueOf(catalog.slots().size())));
        setState(LifecycleState.STARTING);
    }

    /** The catalog of appBase, scanned once now, then at every scanInterval (changes) and rescanInterval (all). */
    private void startCatalog(Host host, PoolServices services) {
        catalog = new AppCatalog(appBasePath, new PorticoXml(settings), events,
                (source, config) -> createApp(source, config, host, services),
                !settings.<Boolean>get(Attribute.DISABLE_START_UP_ERROR_PAGE), mbeans);
        catalog.startWatching();
        catalog.scan();
        long scan = settings.<Duration>get(Attribute.SCAN_INTERVAL).toMillis();
        long rescan = settings.<Duration>get(Attribute.RESCAN_INTERVAL).toMillis();
        scanTask = scheduler.scheduleWithFixedDelay(() -> scanQuietly(catalog::update), scan, scan, TimeUnit.MILLISECONDS);
        rescanTask = scheduler.scheduleWithFixedDelay(() -> scanQuietly(catalog::scan), rescan, rescan,
                TimeUnit.MILLISECONDS);
    }

    private HostedApp createApp(AppSource source, AppConfig config, Host host, PoolServices services) {
        if (config.hostingModel() == HostingModel.OUT_OF_PROCESS) {
            return new OutOfProcessApp(source, config, internal, backendClient, services);
        }
        return new InProcessApp(source, config, internal, host, workDir, services.blockingExecutor(), services.events());
    }

    /** A periodic task that throws is never run again: nothing may escape, or apps stop being noticed. */
    private void scanQuietly(Runnable scan) {
        try {
            scan.run();
        } catch (Throwable t) {
            log.error(sm.getString("valve.scanFailed", appBasePath), t);
        }
    }

    @Override
    protected void stopInternal() throws LifecycleException {
        setState(LifecycleState.STOPPING);
        if (scanTask != null) {
            scanTask.cancel(false);
        }
        if (rescanTask != null) {
            rescanTask.cancel(false);
        }
        stopApps();
        if (backendClient != null) {
            // closes the tunnels still open, so their client connections end before the Contexts stop
            backendClient.closeChannels();
        }
        if (internal != null) {
            internal.stop();
        }
        if (mbeans != null) {
            mbeans.unregisterProcesses();
        }
        if (hooks != null) {
            hooks.close();
            hooks = null;
        }
        events = HostingEvents.NONE;
        try {
            if (backendClient != null) {
                backendClient.close();
            }
        } catch (Exception e) {
            log.warn(sm.getString("valve.clientStopFailed"), e);
        }
        endThreads();
    }

    private void stopApps() {
        if (catalog == null) {
            return;
        }
        try {
            // each app bounds its own stop by shutdownTimeLimit; this is only a safety net
            catalog.stopAll().get(settings.<Duration>get(Attribute.SHUTDOWN_TIME_LIMIT).multipliedBy(3).toSeconds() + 60,
                    TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn(sm.getString("valve.stopIncomplete"), e);
        }
    }

    /** Every thread the valve started ends with it, or Tomcat's stop is told which did not, within one bound. */
    private void endThreads() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        if (blockingExecutor != null) {
            blockingExecutor.shutdownNow();
        }
        long deadline = System.nanoTime() + THREADS_END_LIMIT.toNanos();
        awaitEnd("portico-scheduler", scheduler == null ? null : scheduler::awaitTermination, deadline);
        awaitEnd("portico-lifecycle", blockingExecutor == null ? null : blockingExecutor::awaitTermination, deadline);
    }

    /** {@code ExecutorService.awaitTermination}. */
    private interface Termination {
        boolean await(long timeout, TimeUnit unit) throws InterruptedException;
    }

    private static void awaitEnd(String threads, Termination termination, long deadlineNanos) {
        if (termination == null) {
            return;
        }
        try {
            if (!termination.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                log.warn(sm.getString("valve.threadsLeft", threads));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Host frontHost() throws LifecycleException {
        Container container = getContainer();
        if (container instanceof Host host) {
            return host;
        }
        throw new LifecycleException(sm.getString("valve.notOnHost",
                container == null ? "nothing" : container.getClass().getSimpleName()));
    }

    /** Context path → one line on the app's state, for operators (and JMX, which exposes getters). */
    public java.util.Map<String, String> getHostedApps() {
        return byPath(slot -> slot.offlinePage() == null ? slot.app().describe()
                : slot.offlineByFile() ? "offline (app_offline.htm)" : "offline (held by an operator)");
    }

    /**
     * Context path → the app's status, typed (what Portico Express says of each app at its start).
     * Offline apps are left out: they answer their offline page whatever their state says.
     */
    public java.util.Map<String, AppStatus> appStatuses() {
        return byPath(slot -> slot.offlinePage() == null ? slot.status() : null);
    }

    /** What {@code value} says of each hosted app, by its path ("/" for ROOT); an app it says null of is left out. */
    private <V> java.util.Map<String, V> byPath(java.util.function.Function<AppCatalog.Slot, V> value) {
        java.util.Map<String, V> apps = new java.util.TreeMap<>();
        AppCatalog current = catalog;
        if (current != null) {
            for (AppCatalog.Slot slot : current.slots()) {
                V of = value.apply(slot);
                if (of != null) {
                    apps.put(slot.source().displayPath(), of);
                }
            }
        }
        return apps;
    }

    // ---------------------------------------------------------------- requests

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        String uri = request.getDecodedRequestURI();
        if (uri == null || response.isError()) {
            // A request Tomcat refused (bad header, %2f, %00, two Content-Lengths …) passes the
            // pipeline only so that the Host's error report valve can answer it with its 400.
            getNext().invoke(request, response);
            return;
        }
        if (!statusPath.isEmpty() && statusPath.equals(uri)) {
            StatusAccess.Decision access = statusAccess.decide(request, response);
            if (access == StatusAccess.Decision.SERVE) {
                StatusReport.send(catalog, request, response);
            }
            if (access != StatusAccess.Decision.PASS) {
                return;
            }
        }
        AppCatalog.Slot slot = catalog.match(uri);
        if (slot == null || frontContextIsMoreSpecific(request, slot)) {
            getNext().invoke(request, response);
            return;
        }
        byte[] offlinePage = slot.offlinePage();
        if (offlinePage != null) {
            ErrorPage.offline(offlinePage).send(response);
            return;
        }
        AppMetrics metrics = slot.metrics();
        long started = metrics.begin();
        try {
            handOver(slot, request, response);
        } catch (IOException | ServletException | RuntimeException | Error e) {
            metrics.threw(started);
            throw e;
        }
        metrics.handled(request, response, started);
    }

    /**
     * Hands the request to the slot's app. A generation that a recycle or removal has just closed
     * refuses it untouched: the slot then holds its successor, which takes it; an app that is
     * gone for good has none, and the answer is 503.
     */
    private static void handOver(AppCatalog.Slot slot, Request request, Response response)
            throws IOException, ServletException {
        TomcatInternals.protectFromAsyncSweep(request);
        HostedApp app = slot.app();
        while (!app.handle(request, response)) {
            HostedApp successor = slot.app();
            if (successor == app) {
                ErrorPage.unavailable(sm.getString("valve.appGone", slot.source().name())).send(response);
                return;
            }
            app = successor;
        }
    }

    /** A webapp of the front Host whose path is longer than the hosted app's wins, as in Tomcat's own mapping. */
    private static boolean frontContextIsMoreSpecific(Request request, AppCatalog.Slot slot) {
        Context front = request.getContext();
        return front != null && front.getPath().length() > slot.source().contextPath().length();
    }
}
