package testhooks;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import dev.portico.hooks.api.AppDeployed;

/** Throws when app "boom" is deployed; hangs (deaf to interrupts) for 4 s when app "stubborn" is. */
@ApplicationScoped
public class Troublemakers {

    void deployed(@Observes AppDeployed event) {
        if (event.app().equals("boom")) {
            throw new IllegalStateException("a hook failing on purpose");
        }
        if (event.app().equals("stubborn")) {
            long end = System.nanoTime() + 4_000_000_000L;
            while (System.nanoTime() < end) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ignored) {
                    Recorder.append("sync.log", "stubborn hook interrupted");
                }
            }
            Recorder.append("sync.log", "stubborn hook returned");
        }
    }
}
