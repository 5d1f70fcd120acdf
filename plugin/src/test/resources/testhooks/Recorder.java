package testhooks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;

import dev.portico.hooks.api.AppDeployed;
import dev.portico.hooks.api.HostingEvent;

/** Writes every event it observes, one line each: sync.log (@Observes) and async.log (@ObservesAsync), beside its jar. */
@ApplicationScoped
public class Recorder {

    static final Path DIR = besideJar();

    void sync(@Observes HostingEvent event) {
        append("sync.log", event + " on " + Thread.currentThread().getName());
    }

    void async(@ObservesAsync HostingEvent event) {
        append("async.log", event.toString());
    }

    /** What a hook can see: its own loader's parents have the JDK, CDI and the events, nothing of Tomcat. */
    void visibility(@Observes AppDeployed event) {
        if (!Files.exists(DIR.resolve("visibility.txt"))) {
            append("visibility.txt", "tomcat=" + visible("org.apache.catalina.Context")
                    + " portico=" + visible("dev.portico.PorticoValve")
                    + " cdi=" + visible("jakarta.enterprise.inject.spi.CDI")
                    + " contextLoader=" + Thread.currentThread().getContextClassLoader().getName());
        }
    }

    private static boolean visible(String name) {
        try {
            Class.forName(name, false, Recorder.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    static synchronized void append(String file, String line) {
        try {
            Files.writeString(DIR.resolve(file), line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path besideJar() {
        try {
            return Path.of(Recorder.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
