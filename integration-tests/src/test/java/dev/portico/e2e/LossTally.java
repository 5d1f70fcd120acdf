package dev.portico.e2e;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * What happened to the requests of one scenario, counted by concurrent clients: sent, ok, lost (no
 * answer, a wrong status, a cut body, a connection closed without saying so), corrupted (an answer
 * that is not byte for byte what was asked for, or that carries another request's data), plus named
 * counts of outcomes that are allowed (a clean 502 to a POST, a stream the client aborted on purpose).
 * Keeps the first few failures as examples for the assertion message.
 */
final class LossTally {

    private static final int EXAMPLES = 12;

    private final String scenario;
    private final long startNanos = System.nanoTime();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private final AtomicLong corrupted = new AtomicLong();
    private final Map<String, AtomicLong> counts = new ConcurrentSkipListMap<>();
    private final Queue<String> examples = new ConcurrentLinkedQueue<>();
    private final AtomicInteger exampleCount = new AtomicInteger();

    LossTally(String scenario) {
        this.scenario = scenario;
    }

    void sent() {
        sent.incrementAndGet();
    }

    void ok() {
        ok.incrementAndGet();
    }

    void lost(String why) {
        lost.incrementAndGet();
        example("LOST " + why);
    }

    void corrupted(String why) {
        corrupted.incrementAndGet();
        example("CORRUPTED " + why);
    }

    /** An outcome that is neither ok nor a failure, or a detail worth a figure (counted by name). */
    void count(String name) {
        counts.computeIfAbsent(name, n -> new AtomicLong()).incrementAndGet();
    }

    /** A figure of the scenario, shown in the report as name=value. */
    void figure(String name, long value) {
        counts.computeIfAbsent(name, n -> new AtomicLong()).set(value);
    }

    long count(String name, long fallback) {
        AtomicLong value = counts.get(name);
        return value == null ? fallback : value.get();
    }

    long sentCount() {
        return sent.get();
    }

    long lostCount() {
        return lost.get();
    }

    long corruptedCount() {
        return corrupted.get();
    }

    /** One line: scenario, sent / ok / lost / corrupted, the named counts and the time taken. */
    String report() {
        String extra = counts.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue().get())
                .collect(Collectors.joining(" "));
        return String.format("[chaos] %s: sent=%d ok=%d lost=%d corrupted=%d%s in %.1f s", scenario, sent.get(),
                ok.get(), lost.get(), corrupted.get(), extra.isEmpty() ? "" : " " + extra,
                (System.nanoTime() - startNanos) / 1e9);
    }

    /** Prints the report line and its examples to System.out. */
    LossTally print() {
        System.out.println(report());
        examples.forEach(example -> System.out.println("[chaos]   " + example));
        return this;
    }

    /** Fails unless nothing was lost or corrupted (and something was sent). */
    void assertNothingLost() {
        if (sent.get() == 0 || lost.get() > 0 || corrupted.get() > 0) {
            throw new AssertionError(report() + (examples.isEmpty() ? "" : "; first failures:\n  "
                    + String.join("\n  ", examples)));
        }
    }

    private void example(String text) {
        if (exampleCount.incrementAndGet() <= EXAMPLES) {
            examples.add(text);
        }
    }
}
