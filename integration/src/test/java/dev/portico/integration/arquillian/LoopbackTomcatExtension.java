package dev.portico.integration.arquillian;

import org.jboss.arquillian.container.spi.client.container.DeployableContainer;
import org.jboss.arquillian.container.tomcat.embedded.Tomcat10EmbeddedContainer;
import org.jboss.arquillian.core.spi.LoadableExtension;

/** Puts {@link LoopbackTomcatContainer} in place of the stock embedded Tomcat container. */
public class LoopbackTomcatExtension implements LoadableExtension {

    @Override
    public void register(ExtensionBuilder builder) {
        builder.override(DeployableContainer.class, Tomcat10EmbeddedContainer.class,
                LoopbackTomcatContainer.class);
    }
}
