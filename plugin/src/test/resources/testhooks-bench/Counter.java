package testhooks.bench;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import dev.portico.hooks.api.AppOnline;
import dev.portico.hooks.api.ProcessStarting;

/** Counts AppOnline events (writes the count beside its jar when the container shuts down); adds a variable to each start. */
@ApplicationScoped
public class Counter {

    private long online;

    void online(@Observes AppOnline event) {
        online++;
    }

    void starting(@Observes ProcessStarting start) {
        start.environment().put("BENCH", "1");
    }

    @PreDestroy
    void written() throws IOException, URISyntaxException {
        Path dir = Path.of(Counter.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent();
        Files.writeString(dir.resolve("bench.count"), Long.toString(online));
    }
}
