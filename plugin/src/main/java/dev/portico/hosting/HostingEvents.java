package dev.portico.hosting;

import java.util.List;

import dev.portico.hooks.api.HostingEvent;
import dev.portico.hooks.api.ProcessStarting;

/**
 * Every transition of a hosted app, in both models, as the records of {@code portico-hooks-api}:
 * the one channel the lifecycle hooks (Weld observers) and JMX (an MBean per process) hear them on.
 * Calls come on Portico threads and must return promptly; an implementation isolates observers that
 * throw or hang, so a call never fails hosting.
 */
public interface HostingEvents {

    /** Observes nothing. */
    HostingEvents NONE = event -> {
    };

    /** Tells a transition. */
    void tell(HostingEvent event);

    /**
     * Asks, before a process starts, what to add to its {@link ProcessStarting#arguments()} and
     * {@link ProcessStarting#environment()}, or whether to {@link ProcessStarting#veto} the start;
     * the caller reads the answer from the event once this returns. Observers that only listen
     * are told it as any other event.
     */
    default void ask(ProcessStarting question) {
        tell(question);
    }

    /** Tells each event to every observer in turn (the first one first) and asks each the questions. */
    static HostingEvents inOrder(HostingEvents... observers) {
        List<HostingEvents> each = List.of(observers).stream().filter(observer -> observer != NONE).toList();
        if (each.size() <= 1) {
            return each.isEmpty() ? NONE : each.get(0);
        }
        return new HostingEvents() {
            @Override
            public void tell(HostingEvent event) {
                each.forEach(observer -> observer.tell(event));
            }

            @Override
            public void ask(ProcessStarting question) {
                for (HostingEvents observer : each) {
                    if (question.vetoed()) {
                        return;
                    }
                    observer.ask(question);
                }
            }
        };
    }
}
