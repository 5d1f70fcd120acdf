package testhooks;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import dev.portico.hooks.api.ProcessStarting;

/** Gives each process a secret and an argument; vetoes app "vetoed"; takes 3 s for app "slowstart". */
@ApplicationScoped
public class Secrets {

    void starting(@Observes ProcessStarting start) throws InterruptedException {
        switch (start.app()) {
            case "vetoed" -> start.veto("maintenance window until 06:00");
            case "slowstart" -> {
                Thread.sleep(3000);
                start.environment().put("HOOK_SECRET", "too late");
            }
            default -> {
                start.environment().put("HOOK_SECRET", "s3cret-" + start.app());
                start.arguments().add("--from-hook");
            }
        }
    }
}
