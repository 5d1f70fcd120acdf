package dev.portico.outofprocess.pool;

import java.util.random.RandomGenerator;

import dev.portico.outofprocess.backend.Backend;

/**
 * Which ready backend takes a request: the sticky route's when it is ready, else the less busy of
 * two picked at random ("power of two choices": nearly as even as asking every backend, at the
 * cost of asking two, and no herd onto the one that was least busy a moment ago).
 */
final class Balancer {

    private Balancer() {
    }

    /**
     * @param ready the backends taking requests now (a snapshot)
     * @param route the sticky-session cookie's value, or null
     * @param avoid the backend the previous attempt failed on, or null: another is chosen if one is alive
     * @return the backend, or null when none is alive
     */
    static <B extends Backend> B choose(B[] ready, String route, Backend avoid, RandomGenerator random) {
        int count = ready.length;
        if (count == 0) {
            return null;
        }
        if (route != null) {
            for (B candidate : ready) {
                if (candidate.route().equals(route) && candidate != avoid && candidate.isAlive()) {
                    return candidate;
                }
            }
        }
        if (count == 1) {
            // the one that failed, if it is the only one left: it may still be fine (a keep-alive race)
            return ready[0].isAlive() ? ready[0] : null;
        }
        int first = random.nextInt(count);
        int second = random.nextInt(count - 1);
        if (second >= first) {
            second++;
        }
        B a = ready[first];
        B b = ready[second];
        if (a == avoid || !a.isAlive()) {
            return b.isAlive() && b != avoid ? b : firstOther(ready, avoid);
        }
        if (b == avoid || !b.isAlive()) {
            return a;
        }
        return b.inFlight() < a.inFlight() ? b : a;
    }

    /** The first live backend that is not {@code avoid}; {@code avoid} itself when it is the only live one. */
    private static <B extends Backend> B firstOther(B[] ready, Backend avoid) {
        B fallback = null;
        for (B candidate : ready) {
            if (candidate.isAlive()) {
                if (candidate != avoid) {
                    return candidate;
                }
                fallback = candidate;
            }
        }
        return fallback;
    }
}
