package dev.portico.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/**
 * An embedded Tomcat on a fresh temporary base directory whose one connector listens on a loopback
 * address and a free port. The caller adds what it tests (valves, hosts, contexts) to
 * {@link #tomcat()} before {@link #start()}; {@link #close()} stops it if it runs and deletes the base.
 */
public final class EmbeddedTomcat implements AutoCloseable {

    public static final String LOOPBACK = "127.0.0.1";

    private final Path base;
    private final Tomcat tomcat = new Tomcat();
    private final Connector connector = new Connector();

    /** On {@value #LOOPBACK}. */
    public EmbeddedTomcat(String baseDirPrefix) {
        this(baseDirPrefix, LOOPBACK);
    }

    /** @param address the (loopback) address the connector binds; its port is any free one */
    public EmbeddedTomcat(String baseDirPrefix, String address) {
        try {
            base = Files.createTempDirectory(baseDirPrefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        tomcat.setBaseDir(base.toString());
        connector.setPort(0);
        connector.setProperty("address", address);
        tomcat.setConnector(connector);
    }

    public Tomcat tomcat() {
        return tomcat;
    }

    /** The base directory (CATALINA_BASE), deleted by {@link #close()}. */
    public Path base() {
        return base;
    }

    /** A directory below the base, created if need be. */
    public Path directory(String relative) {
        try {
            return Files.createDirectories(base.resolve(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void start() throws LifecycleException {
        tomcat.start();
    }

    /** The port the connector listens on (known once started). */
    public int port() {
        return connector.getLocalPort();
    }

    public boolean isRunning() {
        return tomcat.getServer().getState().isAvailable();
    }

    public void stop() throws LifecycleException {
        tomcat.stop();
        tomcat.destroy();
    }

    @Override
    public void close() throws LifecycleException {
        try {
            if (isRunning()) {
                stop();
            }
        } finally {
            TestFiles.deleteTree(base);
        }
    }
}
