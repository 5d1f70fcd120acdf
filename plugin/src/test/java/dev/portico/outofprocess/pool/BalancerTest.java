package dev.portico.outofprocess.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;


/** The balancer on fake backends: no process, no Tomcat. */
class BalancerTest {

    private final SplittableRandom random = new SplittableRandom(7);

    @Test
    void noReadyBackendIsNone() {
        assertNull(Balancer.choose(new FakeBackend[0], null, null, random));
    }

    @Test
    void theStickyRouteWinsWhileItsBackendIsAliveAndNotTheOneThatFailed() {
        FakeBackend a = new FakeBackend("a", 0);
        FakeBackend b = new FakeBackend("b", 50);
        FakeBackend[] ready = {a, b};
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
        FakeBackend idle = new FakeBackend("idle", 0);
        FakeBackend some = new FakeBackend("some", 5);
        FakeBackend busy = new FakeBackend("busy", 9);
        FakeBackend[] ready = {busy, some, idle};
        Map<FakeBackend, Integer> counts = new HashMap<>();
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
        FakeBackend failed = new FakeBackend("failed", 0);
        FakeBackend dead = new FakeBackend("dead", 0);
        dead.alive = false;
        FakeBackend other = new FakeBackend("other", 100);
        FakeBackend[] ready = {failed, dead, other};
        for (int i = 0; i < 200; i++) {
            assertSame(other, Balancer.choose(ready, null, failed, random));
        }
    }

    @Test
    void theBackendThatFailedIsTakenAgainWhenItIsTheOnlyOneAlive() {
        FakeBackend failed = new FakeBackend("failed", 0);
        FakeBackend dead = new FakeBackend("dead", 0);
        dead.alive = false;
        assertSame(failed, Balancer.choose(new FakeBackend[] {failed, dead}, null, failed, random),
                "with two ready, the live one that failed");
        assertSame(failed, Balancer.choose(new FakeBackend[] {failed}, null, failed, random),
                "alone, it may still be fine (a keep-alive race)");
        assertNull(Balancer.choose(new FakeBackend[] {dead}, null, null, random));
    }
}
