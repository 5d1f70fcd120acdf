package dev.portico.inprocess;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.catalina.Host;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.startup.Constants;
import org.apache.catalina.startup.ContextConfig;
import org.apache.catalina.util.SessionConfig;
import org.apache.catalina.util.URLEncoder;
import org.apache.tomcat.util.buf.MessageBytes;

import dev.portico.config.AppConfig;
import dev.portico.hosting.AppSource;
import dev.portico.hosting.AppStatus;
import dev.portico.hosting.ErrorPage;
import dev.portico.hosting.HostedApp;
import dev.portico.hosting.HostingEvents;
import dev.portico.hosting.InternalContainer;
import dev.portico.hosting.PorticoThreads;

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

    private final AppSource source;
    private final AppConfig config;
    private final InternalContainer container;
    private final Path workBase;
    private final HostedContextBuilder contexts;
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
        this.contexts = new HostedContextBuilder(source, config, Files.isRegularFile(catalinaBase.resolve(Constants.DefaultWebXml)));
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
                    gen = new Generation(source, config, container, events, workBase, contexts);
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
}
