package dev.portico.arquillian;

import org.jboss.arquillian.container.spi.ConfigurationException;
import org.jboss.arquillian.container.spi.client.container.ContainerConfiguration;

/**
 * Settings of {@link PorticoEmbeddedContainer} (arquillian.xml, container {@code portico}). The
 * front Tomcat always listens on 127.0.0.1 and a free port: that is what {@code HostingTomcat}
 * gives, and an in-process app is never reached any other way.
 */
public class PorticoEmbeddedConfiguration implements ContainerConfiguration {

    /** {@code exploded}: staged next to appBase and moved in as {@code apps/<name>}; {@code war}: {@code apps/<name>.war}. */
    private String packaging = "exploded";
    /** How long deploy and undeploy wait for the valve (seconds). */
    private int deploymentTimeout = 60;
    /** The valve's startupTimeLimit (seconds). */
    private int startupTimeLimit = 60;
    /** The valve's shutdownTimeLimit (seconds): how long an undeployed app may drain. */
    private int shutdownTimeLimit = 5;
    /**
     * Names of extra Hosts of the front Engine, comma separated, without the valve: a test can
     * show that a hosted app is not reachable through them.
     */
    private String otherHosts = "";

    @Override
    public void validate() throws ConfigurationException {
        if (!packaging.equals("exploded") && !packaging.equals("war")) {
            throw new ConfigurationException("packaging must be 'exploded' or 'war', not '" + packaging + "'");
        }
        if (deploymentTimeout < 1 || startupTimeLimit < 1 || shutdownTimeLimit < 0) {
            throw new ConfigurationException("deploymentTimeout and startupTimeLimit must be >= 1, shutdownTimeLimit >= 0");
        }
    }

    public String getPackaging() {
        return packaging;
    }

    public void setPackaging(String packaging) {
        this.packaging = packaging.trim();
    }

    public int getDeploymentTimeout() {
        return deploymentTimeout;
    }

    public void setDeploymentTimeout(int seconds) {
        this.deploymentTimeout = seconds;
    }

    public int getStartupTimeLimit() {
        return startupTimeLimit;
    }

    public void setStartupTimeLimit(int seconds) {
        this.startupTimeLimit = seconds;
    }

    public int getShutdownTimeLimit() {
        return shutdownTimeLimit;
    }

    public void setShutdownTimeLimit(int seconds) {
        this.shutdownTimeLimit = seconds;
    }

    public String getOtherHosts() {
        return otherHosts;
    }

    public void setOtherHosts(String otherHosts) {
        this.otherHosts = otherHosts;
    }
}
