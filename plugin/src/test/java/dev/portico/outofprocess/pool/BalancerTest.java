package dev.portico.outofprocess.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.portico.outofprocess.backend.Backend;
import dev.portico.outofprocess.backend.BackendAddress;

/** The balancer on fake backends: no process, no Tomcat. */
class BalancerTest {

    private static final class Fake implements Backend {
        final String route;
        boolean alive = true;
        int inFlight;

        Fake(String route, int inFlight) {
            this.route = route;
            this.inFlight = inFlight;
        }

        @Override
        public BackendAddress address() {
            return BackendAddress.tcp(1);
        }

        @Override
        public String token() {
            return "t";
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

    private final SplittableRandom random = new SplittableRandom(7);

    @Test
    void noReadyBackendIsNone() {
        assertNull(Balancer.choose(new Fake[0], null, null, random));
    }

    @Test
    void theStickyRouteWinsWhileItsBackendIsAliveAndNotTheOneThatFailed() {
        Fake a = new Fake("a", 0);
        Fake b = new Fake("b", 50);
        Fake[] ready = {a, b};
        for (int i = 0; i < 100; i++) {
            assertSame(b, Balancer.choose(ready, "b", null, random), "the busy sticky backend is still the client's");
        }
        assertSame(a, Balancer.choose(ready, "b", b, random), "a sticky backend that just failed the request is avoided");
        b.alive = false;
        assertSame(a, Balancer.choose(ready, "b", null, random), "a dead sticky backend is not chosen");
        assertSame(a, Balancer.choose(ready, "gone", null, random), "an unknown route balances as no route");
    }

    @Test
    void ofTwoPickedTheLessBusyWinsSoTheIdlestIsChosenMostAndTheBusiestNever() {
        Fake idle = new Fake("idle", 0);
        Fake some = new Fake("some", 5);
        Fake busy = new Fake("busy", 9);
        Fake[] ready = {busy, some, idle};
        Map<Fake, Integer> counts = new HashMap<>();
        for (int i = 0; i < 3000; i++) {
            counts.merge(Balancer.choose(ready, null, null, random), 1, Integer::sum);
        }
        // of the 3 pairs, idle is in 2 and wins both; some wins the third
        assertEquals(0, counts.getOrDefault(busy, 0), counts.toString());
        assertTrue(counts.get(idle) > 1800 && counts.get(idle) < 2200, counts.toString());
        assertTrue(counts.get(some) > 800 && counts.get(some) < 1200, counts.toString());
    }

    @Test
    void theBackendThatFailedTheRequestAndDeadOnesAreSkippedWhileAnotherIsAlive() {
        Fake failed = new Fake("failed", 0);
        Fake dead = new Fake("dead", 0);
        dead.alive = false;
        Fake other = new Fake("other", 100);
        Fake[] ready = {failed, dead, other};
        for (int i = 0; i < 200; i++) {
            assertSame(other, Balancer.choose(ready, null, failed, random));
        }
    }

    @Test
    void theBackendThatFailedIsTakenAgainWhenItIsTheOnlyOneAlive() {
        Fake failed = new Fake("failed", 0);
        Fake dead = new Fake("dead", 0);
        dead.alive = false;
        assertSame(failed, Balancer.choose(new Fake[] {failed, dead}, null, failed, random),
                "with two ready, the live one that failed");
        assertSame(failed, Balancer.choose(new Fake[] {failed}, null, failed, random),
                "alone, it may still be fine (a keep-alive race)");
        assertNull(Balancer.choose(new Fake[] {dead}, null, null, random));
    }
}
