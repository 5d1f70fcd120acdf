package dev.portico.express;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.portico.testsupport.HttpTestClient;

/**
 * {@code java -jar target/portico-express.jar ARGS} as a child process, as a user runs it: stdout
 * is collected line by line, stderr goes to a file. {@link #close()} kills whatever is left.
 */
final class ExpressProcess implements AutoCloseable {

    static final Path JAR = Path.of(System.getProperty("portico.expressJar", "target/portico-express.jar"))
            .toAbsolutePath().normalize();
    private static final Pattern LISTENING = Pattern.compile("^Portico Express listening on (http://127\\.0\\.0\\.1:(\\d+)/)$");

    private final Process process;
    private final Path stderr;
    private final List<String> lines = new ArrayList<>();
    private final Thread reader;
    private final List<ProcessHandle> tracked = new ArrayList<>();
    private HttpTestClient http;

    private ExpressProcess(List<String> args) throws IOException {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing: run mvn package first");
        }
        stderr = Files.createTempFile("portico-express-it-", ".err");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", JAR.toString()));
        command.addAll(args);
        process = new ProcessBuilder(command)
                .redirectError(stderr.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        reader = new Thread(this::readStdout, "express-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    static ExpressProcess start(String... args) throws IOException {
        return new ExpressProcess(List.of(args));
    }

    private void readStdout() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null;) {
                synchronized (lines) {
                    lines.add(line);
                    lines.notifyAll();
                }
            }
        } catch (IOException e) {
            // the process is gone
        }
    }

    /** Waits for "Portico Express listening on http://127.0.0.1:PORT/" and returns that URL. */
    String awaitListening(Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        synchronized (lines) {
            while (true) {
                for (String line : lines) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.matches()) {
                        http = new HttpTestClient(URI.create(m.group(1)), Duration.ofSeconds(90));
                        return m.group(1);
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
                    throw new AssertionError("no listening line within " + limit + "; " + describe());
                }
                TimeUnit.NANOSECONDS.timedWait(lines, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
            }
        }
    }

    /** Stdout so far. */
    String stdout() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    String stderr() {
        try {
            return Files.readString(stderr, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The stdout line that contains the text, or null. */
    String line(String containing) {
        synchronized (lines) {
            return lines.stream().filter(l -> l.contains(containing)).findFirst().orElse(null);
        }
    }

    /** A backend process to kill in {@link #close()} should it outlive Express (a test failure). */
    long track(long pid) {
        // a handle remembers the start time, so a recycled pid is never killed
        ProcessHandle.of(pid).ifPresent(tracked::add);
        return pid;
    }

    long pid() {
        return process.pid();
    }

    HttpResponse<String> get(String path) {
        return http.get(path);
    }

    /** GET as a browser asks: {@code Accept: text/html,…}. */
    HttpResponse<String> browse(String path) {
        return http.get(path, "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
    }

    /**
     * SIGTERM, then the exit status within the limit. Through the ProcessHandle: Process.destroy()
     * would also close our end of stdout and lose what Express prints while stopping.
     */
    int terminate(Duration limit) throws InterruptedException {
        process.toHandle().destroy();
        return awaitExit(limit);
    }

    int awaitExit(Duration limit) throws InterruptedException {
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("still running after " + limit + "; " + describe());
        }
        reader.join(2000);
        return process.exitValue();
    }

    String describe() {
        return "stdout:\n" + stdout() + "\nstderr:\n" + stderr();
    }

    @Override
    public void close() throws IOException {
        if (process.isAlive()) {
            List<ProcessHandle> descendants = process.descendants().toList();
            process.destroyForcibly();
            descendants.forEach(ProcessHandle::destroyForcibly);
        }
        tracked.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        Files.deleteIfExists(stderr);
    }
}
