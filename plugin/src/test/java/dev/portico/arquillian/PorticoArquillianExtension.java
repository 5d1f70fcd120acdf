package dev.portico.arquillian;

import org.jboss.arquillian.container.spi.client.container.DeployableContainer;
import org.jboss.arquillian.core.spi.LoadableExtension;

/** Registers {@link PorticoEmbeddedContainer}, the only DeployableContainer on the plugin's test classpath. */
public class PorticoArquillianExtension implements LoadableExtension {

    @Override
    public void register(ExtensionBuilder builder) {
        builder.service(DeployableContainer.class, PorticoEmbeddedContainer.class);
    }
}
