package dev.portico.inprocess;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.catalina.Cluster;
import org.apache.catalina.Host;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.Manager;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.deploy.NamingResourcesImpl;
import org.apache.catalina.session.StandardManager;
import org.apache.catalina.startup.Constants;
import org.apache.catalina.startup.ContextConfig;
import org.apache.catalina.util.ContextName;
import org.apache.catalina.util.SessionConfig;
import org.apache.catalina.util.URLEncoder;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.buf.MessageBytes;
import org.apache.tomcat.util.descriptor.web.ApplicationParameter;
import org.apache.tomcat.util.descriptor.web.ContextEnvironment;
import org.apache.tomcat.util.descriptor.web.SecurityCollection;
import org.apache.tomcat.util.descriptor.web.SecurityConstraint;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.AppConfig;
import dev.portico.config.Placeholders;
import dev.portico.hosting.AppSource;
import dev.portico.hosting.AppStatus;
import dev.portico.hosting.InFlight;
import dev.portico.hosting.HostedApp;
import dev.portico.hosting.HostingEvents;
import dev.portico.hosting.InternalContainer;
import dev.portico.hosting.PorticoThreads;
import dev.portico.hosting.ErrorPage;
import dev.portico.hosting.StdoutLog;

/**
 * A WAR hosted in the Tomcat JVM. Each start of the app (a <em>generation</em>) is a real
 * {@link org.apache.catalina.core.StandardContext} with a {@link ContextConfig} — web.xml,
 * annotations, ServletContainerInitializers, META-INF/context.xml, JSP when Jasper is in lib/ —
 * added to Portico's internal Host, which nothing but the valve leads to. A request is remapped
 * onto that Context and the front's own Request and Response run through the internal Engine:
 * nothing is copied, and async, non-blocking I/O and upgrade work as in any Tomcat webapp.
 *
 * <p>Life, after ANCM's in-process rules: the Context starts on the first request, which (with
 * any other early request) waits up to startupTimeLimit; a start that fails or takes too long
 * answers 500.30 to every request until the app is recycled (changed portico.xml, web.xml or
 * WAR; app_offline.htm). {@link #stop} drains the requests in flight (async ones included) for
 * up to shutdownTimeLimit, then stops and removes the Context, which releases its files.
 */
public final class InProcessApp implements HostedApp {

    /** Context init parameter every in-process app gets (the sample WAR shows it). */
    public static final String HOSTING_MODEL_PARAMETER = "portico.hostingModel";

    private static final Log log = LogFactory.getLog(InProcessApp.class);
    private static final StringManager sm = StringManager.getManager(InProcessApp.class);
    private static final AtomicLong GENERATIONS = new AtomicLong();
    /*
     * Generations are versions of one context path (Tomcat's parallel deployment), so a recycled
     * app's next generation can start while the previous one drains. In-process versions sort
     * below every out-of-process version (19-digit counters from 1), so an out-of-process app of
     * the same path, which maps to the newest version, never lands in a draining in-process one.
     */
    private static final String VERSION_PREFIX = "0000000000000000000";

    private final AppSource source;
    private final AppConfig config;
    private final InternalContainer container;
    private final Path workBase;
    private final boolean defaultWebXml;
    private final Executor executor;
    private final HostingEvents events;

    private volatile Generation current;
    private final AtomicInteger starts = new AtomicInteger();
    private boolean closed;

    /**
     * @param workDir Portico's work directory for the Host (the valve's); each app's generations
     *                get their Tomcat work directories below it
     */
    public InProcessApp(AppSource source, AppConfig config, InternalContainer container, Host frontHost,
            Path workDir, Executor executor, HostingEvents events) {
        this.source = source;
        this.config = config;
        this.container = container;
        this.executor = executor;
        this.events = events;
        Path catalinaBase = frontHost.getCatalinaBase().toPath();
        this.workBase = workDir.resolve("inprocess").resolve(source.name().isEmpty() ? "ROOT" : source.name());
        this.defaultWebXml = Files.isRegularFile(catalinaBase.resolve(Constants.DefaultWebXml));
    }

    // ---------------------------------------------------------------- requests

    @Override
    public boolean handle(Request request, Response response) throws IOException, ServletException {
        Generation gen = enter();
        if (gen == null) {
            return false;
        }
        try {
            if (!gen.awaitStarted()) {
                (gen.timedOut ? ErrorPage.startupTimeLimitExceeded(gen.failure, !config.disableStartUpErrorPage())
                        : ErrorPage.startupFailure(gen.failure, gen.failureDetails, !config.disableStartUpErrorPage()))
                        .send(response);
                return true;
            }
            if (!container.map(request, gen.version) || request.getContext() != gen.context) {
                // the Context went away under us (stopped by a concurrent recycle)
                response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
                return true;
            }
            try {
                SessionIds.INSTANCE.reparse(request);
            } catch (IllegalArgumentException e) {
                // too many cookies, as CoyoteAdapter answers it
                response.sendError(HttpServletResponse.SC_BAD_REQUEST);
                return true;
            }
            MessageBytes redirectPath = request.getMappingData().redirectPath;
            if (!redirectPath.isNull()) {
                redirect(request, response, redirectPath);
                return true;
            }
            container.invoke(request, response);
        } finally {
            gen.requests.exitWhenOver(request);
        }
        return true;
    }

    /** The context-root redirect ({@code /app} → {@code /app/}) that CoyoteAdapter makes for its own mapping. */
    private static void redirect(Request request, Response response, MessageBytes redirectPath) throws IOException {
        String location = URLEncoder.DEFAULT.encode(redirectPath.toString(), StandardCharsets.UTF_8);
        if (request.isRequestedSessionIdFromURL()) {
            location = location + ";" + SessionConfig.getSessionUriParamName(request.getContext()) + "="
                    + request.getRequestedSessionId();
        }
        String query = request.getQueryString();
        if (query != null) {
            location = location + "?" + query;
        }
        response.sendRedirect(location);
    }

    /** The current generation with this request counted in, starting one when there is none; null once stopped for good. */
    private Generation enter() {
        Generation gen = current;
        if (gen != null && gen.requests.tryEnter()) {
            return gen;
        }
        synchronized (this) {
            while (true) {
                if (closed) {
                    return null;
                }
                gen = current;
                if (gen == null) {
                    gen = new Generation();
                    starts.incrementAndGet();
                    current = gen;
                    Generation starting = gen;
                    runAsync(starting::start);
                }
                if (gen.requests.tryEnter()) {
                    return gen;
                }
            }
        }
    }

    // ---------------------------------------------------------------- life

    @Override
    public void preloadIfEnabled() {
        if (config.preloadEnabled()) {
            start();
        }
    }

    @Override
    public void start() {
        Generation gen = enter();
        if (gen != null) {
            gen.requests.exit();
        }
    }

    @Override
    public CompletableFuture<Void> stop(boolean permanently) {
        Generation gen;
        synchronized (this) {
            gen = current;
            current = null;
            if (permanently) {
                closed = true;
            }
            if (gen != null) {
                gen.requests.close();
            }
        }
        if (gen == null) {
            return CompletableFuture.completedFuture(null);
        }
        Generation stopping = gen;
        return runAsync(stopping::drainAndRemove);
    }

    @Override
    public AppStatus status() {
        Generation gen = current;
        String state;
        if (gen == null) {
            state = "idle";
        } else if (!gen.started.isDone()) {
            state = "starting";
        } else {
            state = gen.failure != null ? "failed" : "running";
        }
        AppStatus.Failure failure = gen == null || gen.failure == null ? null
                : new AppStatus.Failure(gen.failedAt, gen.failure);
        return new AppStatus("inProcess", state, describe(), gen == null ? 0 : Long.parseLong(gen.version),
                starts.get(), 0, gen == null ? 0 : gen.requests.count(), failure, null, gen == null ? null : gen.stdoutFile(),
                java.util.List.of(), gen == null ? null : gen.servingSince);
    }

    @Override
    public String describe() {
        Generation gen = current;
        String state;
        if (gen == null) {
            state = "not started";
        } else if (!gen.started.isDone()) {
            state = "starting";
        } else if (gen.failure != null) {
            state = "failed to start: " + gen.failure;
        } else {
            state = "running (" + gen.context.getStateName() + ")";
        }
        return "in-process, " + state;
    }

    private CompletableFuture<Void> runAsync(Runnable task) {
        Runnable withLoader = () -> {
            Thread thread = Thread.currentThread();
            ClassLoader previous = thread.getContextClassLoader();
            // each task starts from Portico's loader, whatever an earlier task's Context left on the pool thread
            thread.setContextClassLoader(InProcessApp.class.getClassLoader());
            try {
                task.run();
            } finally {
                thread.setContextClassLoader(previous);
            }
        };
        try {
            return CompletableFuture.runAsync(withLoader, executor);
        } catch (RejectedExecutionException e) {
            // the valve's executor is gone (Tomcat stopping): do it on a thread of its own
            CompletableFuture<Void> done = new CompletableFuture<>();
            PorticoThreads.newThread("portico-inprocess-" + source.name(), () -> {
                try {
                    withLoader.run();
                    done.complete(null);
                } catch (Throwable t) {
                    done.completeExceptionally(t);
                }
            }).start();
            return done;
        }
    }

    /** One start of the app: its Context, its start's outcome and the requests it is serving. */
    private final class Generation {
        final String version = VERSION_PREFIX + String.format("%09d", GENERATIONS.incrementAndGet());
        final Path workDir = workBase.resolve(version);
        final Path expandedWar = source.packedWar() ? container.host().getAppBaseFile().toPath()
                .resolve(new ContextName(source.contextPath(), version).getBaseName()) : null;
        final HostedContext context = newContext(version, workDir);
        final CompletableFuture<Void> started = new CompletableFuture<>();
        volatile java.time.Instant servingSince;
        final long startDeadline = System.nanoTime() + config.startupTimeLimit().toNanos();
        final InFlight requests = new InFlight();
        volatile boolean timedOut;
        /** Started and told so: its stop is told too. */
        private volatile boolean serving;
        private final AtomicBoolean removed = new AtomicBoolean();
        volatile String failure;
        volatile String failureDetails;
        volatile java.time.Instant failedAt;
        private StdoutLog stdout;
        private ClassLoader stdoutLoader;

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
            failedAt = java.time.Instant.now();
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
                servingSince = java.time.Instant.now();
                events.contextStarted(source.name(), source.contextPath(), Long.parseLong(version));
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
            closeStdout();
            deleteQuietly(workDir);
            if (expandedWar != null) {
                deleteQuietly(expandedWar);
            }
            if (serving) {
                events.contextStopped(source.name(), source.contextPath(), Long.parseLong(version));
            }
        }

        private HostedContext newContext(String version, Path workDir) {
            HostedContext ctx = new HostedContext();
            ctx.setName(source.contextPath() + "##" + version);
            ctx.setPath(source.contextPath());
            ctx.setWebappVersion(version);
            ctx.setDocBase(source.location().toString());
            // A packed WAR is expanded as Tomcat expands webapps/x.war, but into the internal Host's
            // appBase below Portico's work directory, where no deployer looks: served from the
            // archive, each of its jars is read through the WAR at every scan (a 40 MB WAR started
            // several times slower than from webapps/). One directory per generation.
            ctx.setUnpackWAR(true);
            ctx.setWorkDir(workDir.toString());
            contextXml(ctx);
            ContextConfig contextConfig = new ContextConfig();
            if (!defaultWebXml) {
                contextConfig.setDefaultWebXml(Constants.NoDefaultWebXml);
                ctx.addLifecycleListener(new WebappDefaults());
            }
            ctx.addLifecycleListener(contextConfig);
            // after ContextConfig, which reads <distributable/> at the same event
            ctx.addLifecycleListener(event -> {
                if (Lifecycle.CONFIGURE_START_EVENT.equals(event.getType()) && ctx.getManager() == null) {
                    ctx.setManager(sessionManager(ctx));
                }
            });
            parameter(ctx, HOSTING_MODEL_PARAMETER, "inProcess");
            NamingResourcesImpl naming = ctx.getNamingResources();
            config.environmentVariables().forEach((name, written) -> {
                // a running JVM has no environment of its own to give: references see Tomcat's
                String value = Placeholders.expand(written, System::getenv);
                parameter(ctx, name, value);
                ContextEnvironment entry = new ContextEnvironment();
                entry.setName(name);
                entry.setType(String.class.getName());
                entry.setValue(value);
                entry.setOverride(false);
                naming.addEnvironment(entry);
            });
            if (config.stdoutLogEnabled()) {
                hideLogDirectory(ctx);
                ctx.addLifecycleListener(event -> {
                    if (Lifecycle.CONFIGURE_START_EVENT.equals(event.getType())) {
                        openStdout(ctx.getLoader().getClassLoader());
                    } else if (Lifecycle.AFTER_STOP_EVENT.equals(event.getType())) {
                        closeStdout();
                    }
                });
            }
            return ctx;
        }

        private void contextXml(HostedContext ctx) {
            try {
                if (source.packedWar()) {
                    try (java.util.zip.ZipFile war = new java.util.zip.ZipFile(source.location().toFile())) {
                        if (war.getEntry("META-INF/context.xml") == null) {
                            return;
                        }
                    } catch (IOException e) {
                        return; // ContextConfig will say what is wrong with the archive
                    }
                    ctx.setConfigFile(URI.create("jar:" + source.location().toUri() + "!/META-INF/context.xml").toURL());
                } else {
                    Path xml = source.location().resolve("META-INF").resolve("context.xml");
                    if (Files.isRegularFile(xml)) {
                        ctx.setConfigFile(xml.toUri().toURL());
                    }
                }
            } catch (MalformedURLException | IllegalArgumentException e) {
                log.warn(sm.getString("inProcess.contextXmlIgnored", source.name(), e.toString()));
            }
        }

        /** A stdout log inside an exploded WAR must not be served as static content. */
        private void hideLogDirectory(HostedContext ctx) {
            Path root = source.location().toAbsolutePath().normalize();
            Path logDir = config.stdoutLogFile().toAbsolutePath().normalize().getParent();
            if (source.packedWar() || logDir == null || !logDir.startsWith(root) || logDir.equals(root)) {
                return;
            }
            SecurityConstraint deny = new SecurityConstraint();
            deny.setAuthConstraint(true); // no role can satisfy it
            SecurityCollection collection = new SecurityCollection();
            collection.addPatternDecoded("/" + root.relativize(logDir).toString().replace('\\', '/') + "/*");
            deny.addCollection(collection);
            ctx.addConstraint(deny);
        }

        private synchronized void openStdout(ClassLoader loader) {
            long pid = ProcessHandle.current().pid();
            try {
                stdout = StdoutLog.open(config, pid);
                stdoutLoader = loader;
                AppOutput.register(loader, stdout);
                log.info(sm.getString("inProcess.stdoutLog", source.name(), stdout.file()));
            } catch (IOException | RuntimeException e) {
                log.warn(sm.getString("inProcess.stdoutLogFailed", source.name(),
                        StdoutLog.fileName(config.stdoutLogFile(), pid), e.toString()));
            }
        }

        synchronized Path stdoutFile() {
            return stdout == null ? null : stdout.file();
        }

        private synchronized void closeStdout() {
            if (stdoutLoader != null) {
                AppOutput.unregister(stdoutLoader);
                stdoutLoader = null;
            }
            if (stdout != null) {
                try {
                    stdout.close();
                } catch (IOException e) {
                    // nothing to do
                }
                stdout = null;
            }
        }
    }

    /**
     * A distributable app on a clustered front gets its session manager from the cluster, as a
     * webapp does, but named by its path rather than its versioned Context name, so the name is
     * the same on every node and in every generation ({@code <host>#<path>}, a webapp's name).
     * Otherwise a recycled app starts afresh, as an ANCM in-process app does: no SESSIONS.ser.
     */
    private static Manager sessionManager(HostedContext ctx) {
        Cluster cluster = ctx.getCluster();
        if (cluster != null && ctx.getDistributable()) {
            return cluster.createManager(ctx.getPath());
        }
        StandardManager manager = new StandardManager();
        manager.setPathname(null);
        return manager;
    }

    private static void parameter(HostedContext ctx, String name, String value) {
        ApplicationParameter parameter = new ApplicationParameter();
        parameter.setName(name);
        parameter.setValue(value);
        parameter.setOverride(false); // Portico's value wins over a context-param of the same name
        ctx.addApplicationParameter(parameter);
    }

    private static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException e) {
            log.debug("could not delete " + dir, e);
        }
    }
}
