package dev.portico.outofprocess;

import java.io.IOException;
import java.nio.channels.AsynchronousChannelGroup;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.servlet.ServletException;

import org.apache.catalina.Host;
import org.apache.catalina.Wrapper;
import org.apache.catalina.authenticator.BasicAuthenticator;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.session.StandardManager;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.LoginConfig;
import org.apache.tomcat.util.descriptor.web.SecurityCollection;
import org.apache.tomcat.util.descriptor.web.SecurityConstraint;

import dev.portico.config.AppConfig;
import dev.portico.forward.BackendClient;
import dev.portico.forward.ForwardingServlet;
import dev.portico.hosting.AppSource;
import dev.portico.hosting.AppStatus;
import dev.portico.hosting.HostedApp;
import dev.portico.hosting.InternalContainer;
import dev.portico.process.BackendProcess;
import dev.portico.process.ProcessSupervisor;

/**
 * An app served by a child process: a forwarding Context in the internal Host (so Tomcat's
 * authenticators, async machinery and access logging apply as to any Context) whose only
 * servlet forwards to the process that the {@link ProcessSupervisor} keeps running.
 */
public final class OutOfProcessApp implements HostedApp {

    private static final AtomicLong GENERATIONS = new AtomicLong();

    private final AppSource source;
    private final AppConfig config;
    private final InternalContainer container;
    private final ProcessSupervisor supervisor;
    private final StandardContext context;
    private final ForwardingServlet servlet;

    /**
     * @param upgradeChannels the valve's channel group for upgrade (WebSocket) connections to backends
     */
    public OutOfProcessApp(AppSource source, AppConfig config, InternalContainer container, Host frontHost,
            BackendClient client, AsynchronousChannelGroup upgradeChannels, ProcessSupervisor.Services services) {
        this.source = source;
        this.config = config;
        this.container = container;
        this.supervisor = new ProcessSupervisor(source.name(), source.contextPath(), config, source.location(), services);
        this.servlet = new ForwardingServlet(source.name(), source.contextPath(), supervisor, client, upgradeChannels);
        this.context = forwardingContext(source, config, frontHost, servlet);
        container.addContext(context);
    }

    private static StandardContext forwardingContext(AppSource source, AppConfig config, Host frontHost,
            ForwardingServlet servlet) {
        StandardContext context = new StandardContext();
        // Each generation of an app is a new version of its Context (Tomcat's parallel
        // deployment): a recycled app's new Context takes new requests at once while the old
        // one finishes its in-flight requests and is removed after its process has stopped.
        String version = String.format("%019d", GENERATIONS.incrementAndGet());
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
        context.setParentClassLoader(OutOfProcessApp.class.getClassLoader());
        Wrapper wrapper = context.createWrapper();
        wrapper.setName("portico-forward");
        wrapper.setServlet(servlet);
        wrapper.setAsyncSupported(true);
        wrapper.setLoadOnStartup(1);
        context.addChild(wrapper);
        context.addServletMappingDecoded("/", "portico-forward");
        if (config.requiresAuthentication()) {
            requireLogin(context, source, config, frontHost);
        }
        return context;
    }

    private static void requireLogin(StandardContext context, AppSource source, AppConfig config, Host frontHost) {
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
        context.setRealm(new FrontRealm(frontHost));
        context.getPipeline().addValve(new BasicAuthenticator());
    }

    @Override
    public void handle(Request request, Response response) throws IOException, ServletException {
        servlet.enter(request, response);
        if (!container.dispatch(request, response)) {
            response.sendError(404);
        }
    }

    @Override
    public void preloadIfEnabled() {
        if (config.preloadEnabled()) {
            supervisor.acquire();
        }
    }

    @Override
    public void start() {
        supervisor.acquire();
    }

    @Override
    public CompletableFuture<Void> stop(boolean permanently) {
        CompletableFuture<Void> stopped = supervisor.stop(permanently);
        return permanently ? stopped.whenComplete((v, e) -> container.removeContext(context)) : stopped;
    }

    public ProcessSupervisor supervisor() {
        return supervisor;
    }

    @Override
    public AppStatus status() {
        return supervisor.status(describe());
    }

    @Override
    public String describe() {
        BackendProcess backend = supervisor.current();
        String program = config.usesWarRunner() ? "WAR runner" : config.processPath();
        return "out-of-process (" + program + "), " + supervisor.state().name().toLowerCase()
                + (backend == null ? "" : ", " + backend);
    }
}
