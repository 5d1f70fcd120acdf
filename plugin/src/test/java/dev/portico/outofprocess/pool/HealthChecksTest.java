package dev.portico.outofprocess.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import dev.portico.outofprocess.backend.Backend;

/** Active health checking on fake backends and a hand-turned clock: no process, no thread, no waiting. */
class HealthChecksTest {

    private long now = 1_000_000_000L;
    private final Map<Backend, Boolean> passes = new HashMap<>();
    private final List<Backend> probed = new ArrayList<>();
    private final List<String> ejected = new ArrayList<>();

    private HealthChecks checks(Duration interval) {
        return new HealthChecks(interval, () -> now, backend -> {
            probed.add(backend);
            return CompletableFuture.completedFuture(passes.getOrDefault(backend, true));
        }, (backend, inARow) -> ejected.add(backend + "@" + inARow));
    }

    private void later(Duration by) {
        now += by.toNanos();
    }

    @Test
    void eachReadyBackendIsProbedOncePerIntervalAndNotBefore() {
        HealthChecks checks = checks(Duration.ofSeconds(10));
        FakeBackend a = new FakeBackend("a", 0);
        FakeBackend b = new FakeBackend("b", 0);
        checks.tick(List.of(a, b));
        assertTrue(probed.isEmpty(), "probed before the first interval passed: " + probed);
        later(Duration.ofSeconds(9));
        checks.tick(List.of(a, b));
        assertTrue(probed.isEmpty());
        later(Duration.ofSeconds(1));
        checks.tick(List.of(a, b));
        assertEquals(List.of(a, b), probed);
        later(Duration.ofSeconds(5));
        checks.tick(List.of(a, b));
        assertEquals(2, probed.size(), "probed again within the interval");
    }

    @Test
    void threeFailedChecksInARowEjectALiveBackendOnceAndAPassStartsTheCountAgain() {
        HealthChecks checks = checks(Duration.ofSeconds(1));
        FakeBackend sick = new FakeBackend("sick", 0);
        passes.put(sick, false);
        for (int round = 0; round < 2; round++) {
            later(Duration.ofSeconds(1));
            checks.tick(List.of(sick));
        }
        passes.put(sick, true);
        later(Duration.ofSeconds(1));
        checks.tick(List.of(sick));
        passes.put(sick, false);
        for (int round = 0; round < 2; round++) {
            later(Duration.ofSeconds(1));
            checks.tick(List.of(sick));
        }
        assertTrue(ejected.isEmpty(), "ejected although a check passed between failures: " + ejected);
        later(Duration.ofSeconds(1));
        checks.tick(List.of(sick));
        assertEquals(List.of("sick@3"), ejected);
        later(Duration.ofSeconds(1));
        checks.tick(List.of(sick));
        assertEquals(1, ejected.size(), "ejected twice");
    }

    @Test
    void aDeadBackendIsNotEjectedByItsChecksAndNoIntervalMeansNoChecks() {
        HealthChecks checks = checks(Duration.ofSeconds(1));
        FakeBackend dead = new FakeBackend("dead", 0);
        dead.alive = false;
        passes.put(dead, false);
        for (int round = 0; round < 5; round++) {
            later(Duration.ofSeconds(1));
            checks.tick(List.of(dead));
        }
        assertTrue(ejected.isEmpty(), "its exit, not its checks, takes a dead process out: " + ejected);
        HealthChecks off = checks(Duration.ZERO);
        assertFalse(off.enabled());
        probed.clear();
        later(Duration.ofDays(1));
        off.tick(List.of(new FakeBackend("x", 0)));
        assertTrue(probed.isEmpty());
    }
}
