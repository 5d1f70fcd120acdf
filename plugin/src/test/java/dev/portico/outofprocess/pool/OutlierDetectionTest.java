package dev.portico.outofprocess.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Consecutive gateway failures on fake backends. */
class OutlierDetectionTest {

    @Test
    void theFailureThatMakesTheLimitInARowEjectsOnceAndAnAnswerClearsTheCount() {
        OutlierDetection outliers = new OutlierDetection(3);
        FakeBackend a = new FakeBackend("a", 0);
        FakeBackend b = new FakeBackend("b", 0);
        assertEquals(0, outliers.note(a, true));
        assertEquals(0, outliers.note(a, true));
        assertEquals(0, outliers.note(b, true), "counted per backend");
        assertEquals(0, outliers.note(a, false), "a good answer");
        assertEquals(0, outliers.note(a, true));
        assertEquals(0, outliers.note(a, true));
        assertEquals(3, outliers.note(a, true), "the third in a row");
        assertEquals(0, outliers.note(a, true), "told once, not at every failure after");
        outliers.forget(a);
        assertEquals(0, outliers.note(a, true), "a forgotten backend starts from nothing");
    }

    @Test
    void zeroTurnsItOff() {
        OutlierDetection off = new OutlierDetection(0);
        FakeBackend a = new FakeBackend("a", 0);
        for (int i = 0; i < 100; i++) {
            assertEquals(0, off.note(a, true));
        }
    }
}
