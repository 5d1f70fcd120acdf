package dev.portico.integration.runner;

import dev.portico.integration.BackendContract;
import dev.portico.integration.ForwardedUserValve;
import dev.portico.integration.PorticoEnvironment;
import dev.portico.integration.PorticoIntegration;
import dev.portico.integration.ShutdownAction;

import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.scan.StandardJarScanFilter;
import org.apache.tomcat.util.scan.StandardJarScanner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One web application in an embedded Tomcat with one HTTP/1.1 connector on 127.0.0.1.
 *
 * <p>The connector is added only after the application has started: Portico takes an accepting
 * port to mean "ready", so the port must not open before the application can serve, nor at all if
 * it fails to start.
 */
final class EmbeddedWebappServer {

    static final String LOOPBACK = "127.0.0.1";

    private static final Logger LOG = Logger.getLogger(EmbeddedWebappServer.class.getName());
    private static final String JSP_SERVLET = "org.apache.jasper.servlet.JspServlet";

    private final RunnerConfig config;
    private final Tomcat tomcat = new Tomcat();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private Path baseDir;
    private boolean deleteBaseDir;
    private Connector connector;
    private boolean stopCalled;

    EmbeddedWebappServer(RunnerConfig config) {
        this.config = config;
    }

    /** The runner's own class path holds nothing an app needs scanned; with embedded Tomcat's empty
     *  default skip list each start would scan all of it (0.8–2 s for the express jar alone). An
     *  app's own {@code <JarScanner>} in META-INF/context.xml still wins. */
    private static StandardJarScanner jarScannerSkippingTheRunnersOwnJars() {
        String own = "portico-tomcat-*.jar,portico-integration-*.jar,portico-express*.jar,tomcat-*.jar,catalina*.jar,jasper*.jar,ecj-*.jar,el-api.jar,jsp-api.jar,"
                + "servlet-api.jar,websocket-*.jar,annotations-api.jar,jaspic-api.jar,bootstrap.jar";
        StandardJarScanFilter filter = new StandardJarScanFilter();
        filter.setPluggabilitySkip(filter.getPluggabilitySkip() == null ? own : filter.getPluggabilitySkip() + "," + own);
        filter.setTldSkip(filter.getTldSkip() == null ? own : filter.getTldSkip() + "," + own);
        StandardJarScanner scanner = new StandardJarScanner();
        scanner.setJarScanFilter(filter);
        return scanner;
    }

    /** Starts the application, then opens the port. */
    void start(ShutdownAction shutdownAction) throws IOException, LifecycleException, StartupFailure {
        prepareBaseDir();
        tomcat.setBaseDir(baseDir.toString());
        Context context = tomcat.addWebapp(tomcat.getHost(), config.pathBase(), config.app().toString());
        context.setJarScanner(jarScannerSkippingTheRunnersOwnJars());
        if (context instanceof StandardContext standardContext) {
            // This JVM ends with the application: leak prevention at undeploy is pointless, and its
            // reflective variants only print --add-opens warnings.
            standardContext.setClearReferencesThreadLocals(false);
            standardContext.setClearReferencesRmiTargets(false);
        }
        if (!isJspAvailable()) {
            context.addLifecycleListener(event -> {
                if (Lifecycle.BEFORE_START_EVENT.equals(event.getType())) {
                    replaceJspServlet(context);
                }
            });
        }
        // The service file is not on the runner's classpath in a real deployment (the plugin jar
        // leaves it out so the front Tomcat does not load it for every webapp): register directly.
        context.addServletContainerInitializer(
                new PorticoIntegration(config.environment(), shutdownAction), null);
        // the front's user and roles, for the app's own <auth-constraint> (the authenticator runs before any filter)
        String token = config.environment().get(BackendContract.TOKEN);
        if (token != null) {
            tomcat.getHost().getPipeline().addValve(new ForwardedUserValve(token));
        }

        tomcat.start();
        if (context.getState() != LifecycleState.STARTED) {
            throw new StartupFailure("the web application " + config.app()
                    + " failed to start (state " + context.getState() + "); see the log above");
        }
        openPort();
    }

    private void openPort() throws StartupFailure {
        connector = new Connector("HTTP/1.1");
        String where;
        if (config.socket() != null) {
            // transport="unix": the NIO connector binds the socket Portico named, in its private directory
            connector.setProperty("unixDomainSocketPath", config.socket().toString());
            where = config.socket().toString();
        } else {
            connector.setPort(config.port());
            connector.setProperty("address", LOOPBACK);
            where = LOOPBACK + ":" + config.port();
        }
        // Only Portico's forwarder (a pool of keep-alive connections) talks to this loopback port:
        // Tomcat's default of 100 requests per connection would make it reconnect every 100 requests.
        connector.setProperty("maxKeepAliveRequests", "-1");
        // Without this a bind failure is only logged and the runner would carry on deaf.
        connector.setThrowOnFailure(true);
        try {
            // The service is started, so this starts (binds) the connector at once.
            tomcat.getService().addConnector(connector);
        } catch (RuntimeException e) {
            throw new StartupFailure("cannot listen on " + where, e);
        }
        if (connector.getState() != LifecycleState.STARTED || (config.socket() == null && connector.getLocalPort() <= 0)) {
            throw new StartupFailure("cannot listen on " + where + "; see the log above");
        }
    }

    int localPort() {
        return connector == null ? -1 : connector.getLocalPort();
    }

    /** Stops and destroys Tomcat once, whoever asks first: shutdown request, parent watcher or hook. */
    synchronized void stop() {
        if (stopCalled) {
            return;
        }
        stopCalled = true;
        try {
            if (tomcat.getServer().getState().isAvailable()) {
                tomcat.stop();
            }
            tomcat.destroy();
        } catch (LifecycleException | RuntimeException e) {
            LOG.log(Level.WARNING, "Error while stopping embedded Tomcat", e);
        } finally {
            deleteBaseDirIfTemporary();
            stopped.countDown();
        }
    }

    void awaitStop() throws InterruptedException {
        stopped.await();
    }

    private void prepareBaseDir() throws IOException {
        if (config.workDir() != null) {
            baseDir = config.workDir();
        } else {
            baseDir = Files.createTempDirectory("portico-war-runner-");
            deleteBaseDir = true;
        }
        // A .war is expanded into the Host's appBase, which must exist.
        Files.createDirectories(baseDir.resolve("webapps"));
    }

    private void deleteBaseDirIfTemporary() {
        if (!deleteBaseDir) {
            return;
        }
        List<Path> failed = DirectoryTree.delete(baseDir);
        if (!failed.isEmpty()) {
            LOG.log(Level.FINE, "Could not delete " + failed);
        }
    }

    private static boolean isJspAvailable() {
        try {
            Class.forName(JSP_SERVLET, false, EmbeddedWebappServer.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Tomcat's defaults (added just before this listener runs) name Jasper's servlet "jsp". */
    private static void replaceJspServlet(Context context) {
        Container jsp = context.findChild("jsp");
        if (jsp instanceof Wrapper wrapper && JSP_SERVLET.equals(wrapper.getServletClass())) {
            wrapper.setServletClass(JspUnavailableServlet.class.getName());
            wrapper.setLoadOnStartup(-1);
            LOG.info("Jasper is not on the classpath: JSP requests will be answered with 501");
        }
    }

    /** The application or the connector did not start; the runner exits non-zero. */
    static final class StartupFailure extends Exception {

        private static final long serialVersionUID = 1L;

        StartupFailure(String message) {
            super(message);
        }

        StartupFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
