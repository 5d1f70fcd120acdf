package dev.portico.testsupport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Many clients at once, each on its own thread, bounded in time: a failure or a hang of one fails the test. */
public final class Concurrently {

    private Concurrently() {
    }

    /** One client's work; its number tells the clients apart. */
    public interface Client {
        void run(int client) throws Exception;
    }

    /** Runs {@code clients} copies of {@code client} at once and waits for all of them, at most {@code hardLimit}. */
    public static void run(int clients, Duration hardLimit, Client client) {
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int number = c;
            tasks.add(() -> {
                client.run(number);
                return null;
            });
        }
        run(hardLimit, tasks);
    }

    /**
     * Runs the tasks at once and waits for all of them, at most {@code hardLimit}; then interrupts
     * what still runs and fails naming each task that failed (the first failure is the cause, the
     * others suppressed) or still ran.
     */
    public static void run(Duration hardLimit, List<Callable<Void>> tasks) {
        ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
        try {
            List<Future<Void>> futures = pool.invokeAll(tasks, hardLimit.toMillis(), TimeUnit.MILLISECONDS);
            List<String> failures = new ArrayList<>();
            List<Throwable> causes = new ArrayList<>();
            for (int i = 0; i < futures.size(); i++) {
                Future<Void> future = futures.get(i);
                if (future.isCancelled()) {
                    failures.add("task " + i + " still running after " + hardLimit.toSeconds() + " s");
                    continue;
                }
                try {
                    future.get();
                } catch (ExecutionException e) {
                    failures.add("task " + i + " failed: " + e.getCause());
                    causes.add(e.getCause());
                }
            }
            if (!failures.isEmpty()) {
                AssertionError failure = new AssertionError(String.join("; ", failures));
                if (!causes.isEmpty()) {
                    failure.initCause(causes.get(0));
                    causes.subList(1, causes.size()).forEach(failure::addSuppressed);
                }
                throw failure;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            pool.shutdownNow();
        }
    }
}
