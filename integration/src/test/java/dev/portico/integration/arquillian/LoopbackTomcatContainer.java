package dev.portico.integration.arquillian;

import org.apache.catalina.Host;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.startup.Tomcat;
import org.jboss.arquillian.container.tomcat.embedded.EmbeddedContextConfig;
import org.jboss.arquillian.container.tomcat.embedded.EmbeddedHostConfig;
import org.jboss.arquillian.container.tomcat.embedded.Tomcat10EmbeddedContainer;
import org.jboss.arquillian.container.tomcat.embedded.TomcatEmbeddedConfiguration;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * arquillian-tomcat-embedded-10 with the connector bound to {@code bindAddress} and a free port.
 *
 * <p>The stock container (1.2.0.Final) uses {@code bindAddress} only as the Host name and URL, so
 * its connector listens on every interface, and it needs a fixed port. Its start method cannot be
 * hooked before the connector binds, so this one repeats it (a dozen lines of Tomcat set-up) with
 * {@code address} set and port 0, then hands the objects to the superclass, whose deploy, undeploy
 * and stop are reused unchanged. The reflection is on private fields of a pinned test-only library.
 */
public class LoopbackTomcatContainer extends Tomcat10EmbeddedContainer {

    private TomcatEmbeddedConfiguration configuration;
    private Path home;

    @Override
    public void setup(TomcatEmbeddedConfiguration configuration) {
        super.setup(configuration);
        this.configuration = configuration;
    }

    @Override
    protected void startTomcatEmbedded()
            throws org.jboss.arquillian.container.spi.client.container.LifecycleException,
            LifecycleException {
        try {
            home = Files.createTempDirectory("arquillian-tomcat-");
            File appBase = Files.createDirectories(home.resolve("webapps")).toFile();
            String address = configuration.getBindAddress();

            Tomcat tomcat = new Tomcat();
            tomcat.setBaseDir(home.toString());
            tomcat.setHostname(address);
            tomcat.getService().setName(configuration.getServerName());
            tomcat.getEngine().setName(configuration.getServerName());
            Connector connector = new Connector("HTTP/1.1");
            connector.setPort(configuration.getBindHttpPort());
            connector.setProperty("address", address);
            tomcat.setConnector(connector);

            StandardHost host = new StandardHost();
            host.setName(address);
            host.setAppBase(appBase.getAbsolutePath());
            host.setDeployOnStartup(false);
            host.setAutoDeploy(false);
            host.setConfigClass(EmbeddedContextConfig.class.getCanonicalName());
            host.setUnpackWARs(configuration.isUnpackArchive());
            EmbeddedHostConfig hostConfig = new EmbeddedHostConfig();
            host.addLifecycleListener(hostConfig);
            tomcat.getEngine().addChild(host);

            tomcat.start();
            // deploy() builds the test URLs from the configured port.
            configuration.setBindHttpPort(connector.getLocalPort());

            setSuperField("tomcat", tomcat);
            setSuperField("host", (Host) host);
            setSuperField("appBase", appBase);
            setSuperField("embeddedHostConfig", hostConfig);
            setSuperField("wasStarted", true); // else stop() skips stopping Tomcat
        } catch (IOException | ReflectiveOperationException e) {
            throw new org.jboss.arquillian.container.spi.client.container.LifecycleException(
                    "Failed to start embedded Tomcat on " + configuration.getBindAddress(), e);
        }
    }

    @Override
    protected void stopTomcatEmbedded() throws LifecycleException {
        try {
            super.stopTomcatEmbedded();
        } finally {
            deleteHome();
        }
    }

    private void setSuperField(String name, Object value) throws ReflectiveOperationException {
        Field field = Tomcat10EmbeddedContainer.class.getDeclaredField(name);
        field.setAccessible(true);
        field.set(this, value);
    }

    private void deleteHome() {
        try (Stream<Path> paths = Files.walk(home)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // a temp dir left behind is not worth failing a test run over
        }
    }
}
