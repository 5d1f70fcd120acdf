package dev.portico.outofprocess.backend;

/**
 * One process of an app as forwarding and balancing see it: where it listens, the token it
 * trusts, the route a sticky client comes back by, and how busy and alive it is. What the
 * process is beyond that (its launch, output and stop) is the pool's business.
 */
public interface Backend {

    BackendAddress address();

    String token();

    /** The value of the sticky-session cookie that leads back to this process. */
    String route();

    boolean isAlive();

    /** Requests it is answering now. */
    int inFlight();
}
