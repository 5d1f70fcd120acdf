package testhooks.broken;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import dev.portico.hooks.api.AppDeployed;

/** A hook with an unsatisfied dependency: Weld refuses to deploy it. */
@ApplicationScoped
public class Broken {

    public interface Missing {
    }

    @Inject
    Missing missing;

    void deployed(@Observes AppDeployed event) {
    }
}
