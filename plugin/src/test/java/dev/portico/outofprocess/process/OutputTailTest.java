package dev.portico.outofprocess.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The last lines of a process's output, as the crash log and the 502.5 page show them. */
class OutputTailTest {

    @Test
    void anyOutputCanBeCutToItsLastLines() {
        assertEquals("", OutputCapture.lastLines("", 20), "a process that printed nothing");
        assertEquals("\n", OutputCapture.lastLines("\n", 20));
        assertEquals("only", OutputCapture.lastLines("only", 2));
        assertEquals("b\nc\n", OutputCapture.lastLines("a\nb\nc\n", 2));
        assertEquals("b\nc", OutputCapture.lastLines("a\nb\nc", 2));
        assertEquals("a\nb\nc\n", OutputCapture.lastLines("a\nb\nc\n", 3));
    }
}
