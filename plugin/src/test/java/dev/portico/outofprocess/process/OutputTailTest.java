package dev.portico.outofprocess.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The last lines of a process's output, as the crash log and the 502.5 page show them. */
class OutputTailTest {

    @Test
    void anyOutputCanBeCutToItsLastLines() {
        assertEquals("", BackendPool.lastLines("", 20), "a process that printed nothing");
        assertEquals("\n", BackendPool.lastLines("\n", 20));
        assertEquals("only", BackendPool.lastLines("only", 2));
        assertEquals("b\nc\n", BackendPool.lastLines("a\nb\nc\n", 2));
        assertEquals("b\nc", BackendPool.lastLines("a\nb\nc", 2));
        assertEquals("a\nb\nc\n", BackendPool.lastLines("a\nb\nc\n", 3));
    }
}
