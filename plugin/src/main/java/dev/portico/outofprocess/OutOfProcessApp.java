package dev.portico.outofprocess;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.servlet.ServletException;

import org.apache.catalina.Wrapper;
import org.apache.catalina.authenticator.BasicAuthenticator;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.session.StandardManager;
import org.apache.catalina.startup.Tomcat;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;
import org.apache.tomcat.util.descriptor.web.LoginConfig;
import org.apache.tomcat.util.descriptor.web.SecurityCollection;
import org.apache.tomcat.util.descriptor.web.SecurityConstraint;

import dev.portico.config.AppConfig;
import dev.portico.hosting.AppSource;
import dev.portico.hosting.AppStatus;
import dev.portico.hosting.HostedApp;
import dev.portico.hosting.InFlight;
import dev.portico.hosting.InternalContainer;
import dev.portico.outofprocess.forward.BackendClient;
import dev.portico.outofprocess.forward.ForwardingServlet;
import dev.portico.outofprocess.pool.BackendPool;
import dev.portico.outofprocess.pool.PoolServices;
import dev.portico.outofprocess.process.BackendProcess;

/**
 * An app served by a child process: a forwarding Context in the internal Host (so Tomcat's
 * authenticators, async machinery and access logging apply as to any Context) whose only
 * servlet forwards to the processes that the app's {@link BackendPool} keeps ready. Each
 * generation of the app (a recycle makes a new one) has its own Context, pool and processes.
 */
public final class OutOfProcessApp implements HostedApp {

    private static final Log log = LogFactory.getLog(OutOfProcessApp.class);
    private static final StringManager sm = StringManager.getManager(OutOfProcessApp.class);
    private static final AtomicLong GENERATIONS = new AtomicLong();

    private final AppSource source;
    private final AppConfig config;
    private final InternalContainer container;
    private final BackendPool pool;
    private final String version;
    private final ForwardingServlet servlet;
    private final Executor executor;
    /** What this generation admitted; a recycle or removal stops it only once they are over. */
    private final InFlight requests = new InFlight();
    /** Made when the app is first needed: a Context (with its MBeans, manager, pipeline) is most of an idle app's memory. */
    private StandardContext context;
    private boolean removed;

    public OutOfProcessApp(AppSource source, AppConfig config, InternalContainer container,
            BackendClient client, PoolServices services) {
        this.source = source;
        this.config = config;
        this.container = container;
        long generation = GENERATIONS.incrementAndGet();
        this.version = String.format("%019d", generation);
        this.pool = new BackendPool(source.name(), source.contextPath(), config, source.location(), generation, services);
        this.servlet = new ForwardingServlet(source.name(), source.contextPath(), config, pool.backends(), client);
        this.executor = services.blockingExecutor();
    }

    /** This generation's Context, added to the internal Host on first use; null once the app was stopped for good. */
    private synchronized StandardContext context() {
        if (context == null && !removed) {
            context = forwardingContext(source, config, servlet, version);
            Thread thread = Thread.currentThread();
            ClassLoader caller = thread.getContextClassLoader();
            // often a request thread: the Context's start must not see (or keep) whatever loader it carries
            thread.setContextClassLoader(OutOfProcessApp.class.getClassLoader());
            try {
                container.addContext(context);
            } finally {
                thread.setContextClassLoader(caller);
            }
        }
        return removed ? null : context;
    }

    private synchronized boolean contextMade() {
        return context != null;
    }

    private void removeContext() {
        StandardContext added;
        synchronized (this) {
            added = removed ? null : context;
            removed = true;
        }
        if (added != null) {
            container.removeContext(added);
        }
    }

    private static StandardContext forwardingContext(AppSource source, AppConfig config, ForwardingServlet servlet,
            String version) {
        StandardContext context = new StandardContext();
        // Each generation of an app is a new version of its Context (Tomcat's parallel
        // deployment): a recycled app's new generation warms up beside the old one, which keeps
        // its requests (the valve maps each to its own generation's version) until it drains.
        context.setName(source.contextPath() + "##" + version);
        context.setWebappVersion(version);
        context.setPath(source.contextPath());
        context.setDocBase(null);
        context.addLifecycleListener(new Tomcat.FixContextListener());
        // the backend owns redirects, sessions and cookies; the forwarding Context keeps none
        context.setMapperContextRootRedirectEnabled(false);
        context.setMapperDirectoryRedirectEnabled(false);
        StandardManager manager = new StandardManager();
        manager.setPathname(null);
        context.setManager(manager);
        context.setLoader(new ForwardingLoader(context.getName()));
        Wrapper wrapper = context.createWrapper();
        wrapper.setName("portico-forward");
        wrapper.setServlet(servlet);
        wrapper.setAsyncSupported(true);
        wrapper.setLoadOnStartup(1);
        context.addChild(wrapper);
        context.addServletMappingDecoded("/", "portico-forward");
        if (config.requiresAuthentication()) {
            requireLogin(context, source, config);
        }
        return context;
    }

    /** Authenticates against the front's Realm, which the internal Host hands down to its Contexts. */
    private static void requireLogin(StandardContext context, AppSource source, AppConfig config) {
        LoginConfig login = new LoginConfig();
        login.setAuthMethod(config.authMethod());
        login.setRealmName(source.name());
        context.setLoginConfig(login);
        SecurityConstraint constraint = new SecurityConstraint();
        for (String role : config.authRoles()) {
            // "*" in portico.xml means any authenticated user, which the Servlet spec spells "**"
            constraint.addAuthRole("*".equals(role) ? SecurityConstraint.ROLE_ALL_AUTHENTICATED_USERS : role);
        }
        constraint.setAuthConstraint(true);
        SecurityCollection everything = new SecurityCollection();
        everything.addPatternDecoded("/*");
        constraint.addCollection(everything);
        context.addConstraint(constraint);
        context.getPipeline().addValve(new BasicAuthenticator());
    }

    @Override
    public boolean handle(Request request, Response response) throws IOException, ServletException {
        if (!requests.tryEnter()) {
            return false;
        }
        try {
            servlet.enter(request, response);
            if (!contextMade()) {
                // the app's first request: its process starts while the Context is made (some
                // milliseconds), not after
                pool.warmUp();
            }
            StandardContext context = context();
            // this generation's Context, not the newest: a new generation may be warming up beside it
            if (context == null || !container.map(request, version) || request.getContext() != context) {
                response.sendError(404);
                return true;
            }
            container.invoke(request, response);
        } finally {
            requests.exitWhenOver(request);
        }
        return true;
    }

    @Override
    public void preloadIfEnabled() {
        if (config.preloadEnabled()) {
            context();
            pool.warmUp();
        }
    }

    @Override
    public void start() {
        context();
        pool.warmUp();
    }

    @Override
    public boolean isServing() {
        return pool.isServing();
    }

    @Override
    public CompletableFuture<Void> warmUp() {
        context();
        return pool.warmUp();
    }

    /**
     * Stops the processes. For good ({@code permanently}: replaced by a new generation, removed,
     * Tomcat stopping) this generation first admits no more requests and lets those it admitted
     * finish, its processes still serving them (they may be waiting for a start, or between two
     * attempts), up to shutdownTimeLimit; only then do the processes stop and the Context go.
     */
    @Override
    public CompletableFuture<Void> stop(boolean permanently) {
        if (!permanently) {
            return pool.stop(false);
        }
        requests.close();
        long deadline = System.nanoTime() + config.shutdownTimeLimit().toNanos();
        CompletableFuture<Void> drained;
        try {
            drained = CompletableFuture.runAsync(() -> {
                int left = requests.drain(config.shutdownTimeLimit());
                if (left > 0) {
                    log.warn(sm.getString("outOfProcess.drainTimeout", source.name(), String.valueOf(left),
                            String.valueOf(config.shutdownTimeLimit().toSeconds())));
                }
            }, executor);
        } catch (RejectedExecutionException stopping) {
            drained = CompletableFuture.completedFuture(null);
        }
        return drained.thenCompose(v -> pool.stop(true, Duration.ofNanos(Math.max(0, deadline - System.nanoTime()))))
                .whenComplete((v, e) -> removeContext());
    }

    @Override
    public AppStatus status() {
        return pool.status(describe());
    }

    @Override
    public String describe() {
        String program = config.usesWarRunner() ? "WAR runner" : config.processPath();
        int size = config.pool().processes();
        return "out-of-process (" + program + (size > 1 ? ", " + size + " processes" : "") + "), "
                + pool.stateName();
    }
}
