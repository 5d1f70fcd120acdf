package dev.portico.outofprocess.pool;

import dev.portico.outofprocess.backend.Backend;
import dev.portico.outofprocess.backend.BackendAddress;

/** A backend with no process behind it, for the pool's parts that decide on backends alone. */
final class FakeBackend implements Backend {

    final String route;
    boolean alive = true;
    int inFlight;

    FakeBackend(String route, int inFlight) {
        this.route = route;
        this.inFlight = inFlight;
    }

    @Override
    public BackendAddress address() {
        return BackendAddress.tcp(1);
    }

    @Override
    public String token() {
        return "token";
    }

    @Override
    public String route() {
        return route;
    }

    @Override
    public boolean isAlive() {
        return alive;
    }

    @Override
    public int inFlight() {
        return inFlight;
    }

    @Override
    public String toString() {
        return route;
    }
}
