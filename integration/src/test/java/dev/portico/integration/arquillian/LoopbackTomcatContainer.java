package dev.portico.integration.arquillian;

import org.apache.catalina.Host;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.startup.Tomcat;
import org.jboss.arquillian.container.tomcat.embedded.EmbeddedContextConfig;
import org.jboss.arquillian.container.tomcat.embedded.EmbeddedHostConfig;
import org.jboss.arquillian.container.tomcat.embedded.Tomcat10EmbeddedContainer;
import org.jboss.arquillian.container.tomcat.embedded.TomcatEmbeddedConfiguration;

import java.io.File;
import java.lang.reflect.Field;

import dev.portico.testsupport.EmbeddedTomcat;

/**
 * arquillian-tomcat-embedded-10 with the connector bound to {@code bindAddress} and a free port.
 *
 * <p>The stock container (1.2.0.Final) uses {@code bindAddress} only as the Host name and URL, so
 * its connector listens on every interface, and it needs a fixed port. Its start method cannot be
 * hooked before the connector binds, so this one repeats its Host set-up on the tests' shared
 * {@link EmbeddedTomcat} (a temporary base, the connector on {@code bindAddress} and a free port),
 * then hands the objects to the superclass, whose deploy, undeploy and stop are reused unchanged.
 * The reflection is on private fields of a pinned test-only library.
 */
public class LoopbackTomcatContainer extends Tomcat10EmbeddedContainer {

    private TomcatEmbeddedConfiguration configuration;
    private EmbeddedTomcat embedded;

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
            String address = configuration.getBindAddress();
            embedded = new EmbeddedTomcat("arquillian-tomcat-", address);
            File appBase = embedded.directory("webapps").toFile();

            Tomcat tomcat = embedded.tomcat();
            tomcat.setHostname(address);
            tomcat.getService().setName(configuration.getServerName());
            tomcat.getEngine().setName(configuration.getServerName());

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

            embedded.start();
            // deploy() builds the test URLs from the configured port.
            configuration.setBindHttpPort(embedded.port());

            setSuperField("tomcat", tomcat);
            setSuperField("host", (Host) host);
            setSuperField("appBase", appBase);
            setSuperField("embeddedHostConfig", hostConfig);
            setSuperField("wasStarted", true); // else stop() skips stopping Tomcat
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new org.jboss.arquillian.container.spi.client.container.LifecycleException(
                    "Failed to start embedded Tomcat on " + configuration.getBindAddress(), e);
        }
    }

    @Override
    protected void stopTomcatEmbedded() throws LifecycleException {
        try {
            super.stopTomcatEmbedded();
        } finally {
            embedded.close(); // stopped already: deletes the base directory
        }
    }

    private void setSuperField(String name, Object value) throws ReflectiveOperationException {
        Field field = Tomcat10EmbeddedContainer.class.getDeclaredField(name);
        field.setAccessible(true);
        field.set(this, value);
    }
}
