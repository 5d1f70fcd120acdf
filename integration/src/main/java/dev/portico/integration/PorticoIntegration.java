package dev.portico.integration;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContainerInitializer;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;

import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * The app side of Portico's out-of-process hosting, the analog of ASP.NET Core's
 * {@code UseIISIntegration}: when the process runs behind Portico ({@code PORTICO_TOKEN} is set) it
 * registers, ahead of the app's own filters, the filter that enforces the pairing token, applies
 * the forwarded headers and principal, and answers the shutdown request; and it stops the process
 * when the front Tomcat JVM ({@code PORTICO_PARENT_PID}) is gone. Without {@code PORTICO_TOKEN} it
 * does nothing.
 *
 * <p>Discovered through {@code META-INF/services} when this jar is in a WAR or on a container's
 * classpath; Portico's WAR runner registers it programmatically instead, with a shutdown action that
 * stops its embedded Tomcat.
 */
public final class PorticoIntegration implements ServletContainerInitializer {

    public static final String FILTER_NAME = "PorticoIntegration";

    private static final Logger LOG = Logger.getLogger(PorticoIntegration.class.getName());

    private final Map<String, String> environment;
    private final ShutdownAction shutdownAction;

    /** For service discovery: reads the process environment and exits the JVM on shutdown. */
    public PorticoIntegration() {
        this(System.getenv());
    }

    public PorticoIntegration(Map<String, String> environment) {
        this(environment, ShutdownAction.exitJvm());
    }

    public PorticoIntegration(Map<String, String> environment, ShutdownAction shutdownAction) {
        this.environment = Map.copyOf(Objects.requireNonNull(environment, "environment"));
        this.shutdownAction = Objects.requireNonNull(shutdownAction, "shutdownAction");
    }

    @Override
    public void onStartup(Set<Class<?>> classes, ServletContext context) {
        PorticoEnvironment portico = PorticoEnvironment.from(environment).orElse(null);
        if (portico == null) {
            return;
        }
        checkPathBase(portico, context);
        ShutdownAction once = onceOnItsOwnThread(shutdownAction);
        FilterRegistration.Dynamic filter = context.addFilter(FILTER_NAME,
                new PorticoFilter(new PairingToken(portico.token()), once));
        if (filter == null) {
            // A second copy of this initializer (say, the WAR's own portico-integration jar under the
            // WAR runner, which registers one already): the first one does the job.
            LOG.fine(() -> "Portico integration already registered for " + describe(context));
            return;
        }
        filter.setAsyncSupported(true);
        // isMatchAfter=false: before every filter of the deployment descriptor, and before filters
        // that initializers running after this one add.
        filter.addMappingForUrlPatterns(EnumSet.allOf(DispatcherType.class), false, "/*");
        portico.parentPid().ifPresent(pid -> watchParent(pid, once, context));
        LOG.info(() -> "Portico integration active for " + describe(context));
    }

    private static void watchParent(long pid, ShutdownAction onParentGone, ServletContext context) {
        ParentProcessWatcher watcher = ParentProcessWatcher.start(pid, onParentGone);
        context.addListener(new ServletContextListener() {
            @Override
            public void contextDestroyed(ServletContextEvent event) {
                watcher.close();
            }
        });
    }

    /**
     * The app is deployed at PORTICO_PATH_BASE, so its context path is already what clients see;
     * a difference means a misconfigured deployment and links the app builds will be wrong.
     */
    private static void checkPathBase(PorticoEnvironment portico, ServletContext context) {
        String pathBase = portico.pathBase();
        if (pathBase != null && !pathBase.equals(context.getContextPath())) {
            LOG.warning(() -> "Context path '" + context.getContextPath() + "' differs from "
                    + BackendContract.PATH_BASE + " '" + pathBase
                    + "': URLs the application builds will not match what clients use");
        }
    }

    /**
     * The shutdown request and the parent watcher may race, and neither caller may block (one is a
     * request thread the server will wait for while stopping).
     */
    private static ShutdownAction onceOnItsOwnThread(ShutdownAction action) {
        AtomicBoolean triggered = new AtomicBoolean();
        return reason -> {
            if (triggered.compareAndSet(false, true)) {
                Thread thread = new Thread(() -> action.shutdown(reason), "portico-shutdown");
                thread.setContextClassLoader(PorticoIntegration.class.getClassLoader());
                thread.start();
            }
        };
    }

    private static String describe(ServletContext context) {
        String path = context.getContextPath();
        return path.isEmpty() ? "the root application" : path;
    }
}
