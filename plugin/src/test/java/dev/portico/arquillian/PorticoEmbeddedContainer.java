package dev.portico.arquillian;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.apache.catalina.core.StandardHost;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.util.ContextName;
import org.jboss.arquillian.container.spi.client.container.DeployableContainer;
import org.jboss.arquillian.container.spi.client.container.DeploymentException;
import org.jboss.arquillian.container.spi.client.container.LifecycleException;
import org.jboss.arquillian.container.spi.client.protocol.ProtocolDescription;
import org.jboss.arquillian.container.spi.client.protocol.metadata.HTTPContext;
import org.jboss.arquillian.container.spi.client.protocol.metadata.ProtocolMetaData;
import org.jboss.arquillian.container.spi.client.protocol.metadata.Servlet;
import org.jboss.shrinkwrap.api.Archive;
import org.jboss.shrinkwrap.api.ArchivePath;
import org.jboss.shrinkwrap.api.Node;
import org.jboss.shrinkwrap.api.asset.ArchiveAsset;
import org.jboss.shrinkwrap.api.asset.Asset;
import org.jboss.shrinkwrap.api.exporter.ZipExporter;

import dev.portico.PorticoValve;
import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Poll;
import dev.portico.testsupport.TestFiles;

/**
 * An Arquillian container whose deployments are WARs hosted in-process by Portico: an embedded
 * Tomcat 11 ({@link HostingTomcat}: 127.0.0.1, a free port, the {@link PorticoValve} on its
 * Host), and {@link #deploy} puts the archive in the valve's appBase the way an operator would
 * — exploded and moved in with one rename ({@code apps/<name>}), or as {@code apps/<name>.war}
 * — then waits until the valve hosts and has started it. Nothing is deployed to Tomcat
 * directly: the app is reached only through the front connector and the valve, so the servlet
 * protocol's runner (a servlet in the hosted WAR) is too.
 *
 * <p>The valve is configured with preloadEnabled, so a deployment is started when the valve
 * finds it and a WAR that fails to start fails the deploy (instead of answering 500.30 to the
 * first test request). The servlet names for {@link ProtocolMetaData} are read from the JMX
 * beans Tomcat registers for the hosted Context's wrappers (the valve's internal Engine is the
 * domain {@code Portico-<front host>}); nothing of the valve's internals is touched.
 */
public class PorticoEmbeddedContainer implements DeployableContainer<PorticoEmbeddedConfiguration> {

    private static final String LOOPBACK = "127.0.0.1";

    private PorticoEmbeddedConfiguration configuration;
    private HostingTomcat tomcat;
    private String frontHostName;

    @Override
    public Class<PorticoEmbeddedConfiguration> getConfigurationClass() {
        return PorticoEmbeddedConfiguration.class;
    }

    @Override
    public ProtocolDescription getDefaultProtocol() {
        return new ProtocolDescription("Servlet 6.0");
    }

    @Override
    public void setup(PorticoEmbeddedConfiguration configuration) {
        this.configuration = configuration;
    }

    @Override
    public void start() throws LifecycleException {
        try {
            tomcat = HostingTomcat.start(valve -> {
                valve.setPreloadEnabled(true);
                valve.setStartupTimeLimit(configuration.getStartupTimeLimit());
                valve.setShutdownTimeLimit(configuration.getShutdownTimeLimit());
            }, this::addOtherHosts);
        } catch (Exception e) {
            throw new LifecycleException("could not start the embedded Tomcat with the Portico valve", e);
        }
    }

    private void addOtherHosts(Tomcat front) {
        frontHostName = front.getHost().getName();
        Path base = front.getServer().getCatalinaBase().toPath();
        for (String name : configuration.getOtherHosts().split(",")) {
            name = name.trim();
            if (name.isEmpty()) {
                continue;
            }
            StandardHost host = new StandardHost();
            host.setName(name);
            try {
                host.setAppBase(Files.createDirectories(base.resolve("other-hosts").resolve(name)).toString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            host.setAutoDeploy(false);
            host.setDeployOnStartup(false);
            front.getEngine().addChild(host);
        }
    }

    @Override
    public void stop() throws LifecycleException {
        if (tomcat == null) {
            return;
        }
        try {
            tomcat.close();
        } catch (Exception e) {
            throw new LifecycleException("could not stop the embedded Tomcat", e);
        } finally {
            tomcat = null;
        }
    }

    /** The valve of the running container (for tests that look at what it hosts). */
    PorticoValve valve() {
        return tomcat.valve();
    }

    // ---------------------------------------------------------------- deployments

    @Override
    public ProtocolMetaData deploy(Archive<?> archive) throws DeploymentException {
        String name = appName(archive);
        String contextPath = new ContextName(name, false).getPath();
        String key = contextPath.isEmpty() ? "/" : contextPath;
        Path apps = tomcat.apps();
        if (tomcat.valve().getHostedApps().containsKey(key) || Files.exists(apps.resolve(name))
                || Files.exists(apps.resolve(name + ".war"))) {
            throw new DeploymentException("an app is already hosted at " + key);
        }
        // assembled under a dot name, which the valve's scan ignores, and moved in with one rename,
        // so the valve never sees half an app
        String staging = "." + name + ".staging-" + System.nanoTime();
        try {
            if (configuration.getPackaging().equals("war")) {
                archive.as(ZipExporter.class).exportTo(apps.resolve(staging).toFile(), true);
                Files.move(apps.resolve(staging), apps.resolve(name + ".war"), StandardCopyOption.ATOMIC_MOVE);
            } else {
                explode(archive, apps.resolve(staging));
                Files.move(apps.resolve(staging), apps.resolve(name), StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException | RuntimeException e) {
            TestFiles.deleteTree(apps.resolve(staging));
            throw new DeploymentException("could not put " + archive.getName() + " in " + apps, e);
        }

        // the valve hosts and has started it (or failed to)
        String state = awaitValue(() -> {
            String s = tomcat.valve().getHostedApps().get(key);
            return s == null || s.endsWith("starting") || s.endsWith("not started") ? null : s;
        });
        if (state == null || state.contains("failed") || state.startsWith("invalid")) {
            String why = state == null ? "not hosted within " + configuration.getDeploymentTimeout() + " s" : state;
            undeployQuietly(name, key);
            throw new DeploymentException(archive.getName() + " at " + key + ": " + why);
        }

        int port = tomcat.port();
        HTTPContext http = new HTTPContext(LOOPBACK, port);
        Set<String> servlets = servletNames(contextPath);
        if (servlets.isEmpty()) {
            // not an in-process app (out-of-process: no Context in this JVM); the base URL still works
            servlets = Set.of("default");
        }
        for (String servlet : servlets) {
            http.add(new Servlet(servlet, contextPath));
        }
        ProtocolMetaData metaData = new ProtocolMetaData();
        metaData.addContext(http);
        return metaData;
    }

    @Override
    public void undeploy(Archive<?> archive) throws DeploymentException {
        String name = appName(archive);
        String contextPath = new ContextName(name, false).getPath();
        if (!undeployQuietly(name, contextPath.isEmpty() ? "/" : contextPath)) {
            throw new DeploymentException(archive.getName() + " still hosted "
                    + configuration.getDeploymentTimeout() + " s after its removal from appBase");
        }
    }

    /**
     * Moves the app out of appBase (a rename to a dot name: the valve sees it gone at its next
     * scan, while the draining Context's files stay in place), waits until the valve no longer
     * hosts it and its Context is gone, then deletes the files.
     */
    private boolean undeployQuietly(String name, String key) {
        Path apps = tomcat.apps();
        Path removed = apps.resolve("." + name + ".undeployed-" + System.nanoTime());
        for (Path app : new Path[] {apps.resolve(name), apps.resolve(name + ".war")}) {
            if (Files.exists(app)) {
                try {
                    Files.move(app, removed, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    TestFiles.deleteTree(app);
                }
                break;
            }
        }
        String contextPath = key.equals("/") ? "" : key;
        boolean gone = awaitValue(() -> tomcat.valve().getHostedApps().containsKey(key)
                || !contextBeans(contextPath).isEmpty() ? null : Boolean.TRUE) != null;
        TestFiles.deleteTree(removed);
        return gone;
    }

    /**
     * Writes the archive as a directory. Unlike ShrinkWrap's ExplodedExporter, which also
     * explodes nested archives, a library stays a jar file in WEB-INF/lib: Tomcat's jar scanner
     * and class loader look for {@code *.jar} files there (web fragments, such as the servlet
     * protocol's runner, are found only in jar files).
     */
    private static void explode(Archive<?> archive, Path target) throws IOException {
        Files.createDirectories(target);
        for (Map.Entry<ArchivePath, Node> entry : archive.getContent().entrySet()) {
            String relative = entry.getKey().get().substring(1);
            if (relative.isEmpty()) {
                continue;
            }
            Path file = target.resolve(relative).normalize();
            if (!file.startsWith(target)) {
                throw new IOException("archive path outside the app: " + entry.getKey());
            }
            Asset asset = entry.getValue().getAsset();
            if (asset == null) {
                Files.createDirectories(file);
                continue;
            }
            Files.createDirectories(file.getParent());
            try (InputStream in = asset instanceof ArchiveAsset nested
                    ? nested.getArchive().as(ZipExporter.class).exportAsInputStream()
                    : asset.openStream()) {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** What {@code probe} returns once it returns something, or null after the deployment timeout. */
    private <T> T awaitValue(Supplier<T> probe) {
        return Poll.valueWithin(Duration.ofSeconds(configuration.getDeploymentTimeout()), probe);
    }

    private static String appName(Archive<?> archive) throws DeploymentException {
        String fileName = archive.getName();
        if (!fileName.endsWith(".war")) {
            throw new DeploymentException("Portico hosts web applications: " + fileName + " is not a .war");
        }
        String name = fileName.substring(0, fileName.length() - 4);
        if (name.isEmpty() || name.startsWith(".") || name.contains("/")) {
            throw new DeploymentException("no app can be hosted as " + fileName);
        }
        return name;
    }

    // ---------------------------------------------------------------- JMX

    /** Servlet names of the hosted Context(s) of this path (all generations; normally one). */
    private Set<String> servletNames(String contextPath) {
        Set<String> names = new TreeSet<>();
        for (ObjectName bean : beans("j2eeType=Servlet", "WebModule", contextPath)) {
            names.add(bean.getKeyProperty("name"));
        }
        return names;
    }

    private Set<ObjectName> contextBeans(String contextPath) {
        return beans("j2eeType=WebModule", "name", contextPath);
    }

    /** Beans of the valve's internal Engine whose module key names {@code //<internal host><path>[##version]}. */
    private Set<ObjectName> beans(String type, String moduleKey, String contextPath) {
        Pattern module = Pattern.compile("//[^/]+" + Pattern.quote(contextPath.isEmpty() ? "/" : contextPath) + "(##.*)?");
        Set<ObjectName> found = new java.util.HashSet<>();
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName query = new ObjectName("Portico-" + frontHostName + ":" + type + ",*");
            for (ObjectName bean : server.queryNames(query, null)) {
                String value = bean.getKeyProperty(moduleKey);
                if (value != null && module.matcher(value).matches()) {
                    found.add(bean);
                }
            }
        } catch (javax.management.MalformedObjectNameException e) {
            throw new IllegalStateException(e);
        }
        return found;
    }
}
