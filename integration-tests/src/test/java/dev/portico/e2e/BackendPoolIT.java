package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.portico.e2e.ChaosClients.Deadline;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import dev.portico.testsupport.Poll;

/**
 * The backend pool (issue 9) in the real distribution, with the Node test backend and raw-socket
 * keep-alive clients: processesPerApplication=2 with one process SIGKILLed every 1.5 s loses no
 * GET, and a restart.txt recycle under load fails no request. Prints the figures: GETs, kills,
 * crash-to-serving times read from Tomcat's log ("exited with code" to the replacement's "is ready
 * after"), p99 in steady state against p99 during the recycle. After the class: a clean log and
 * no process left.
 *
 * <p>"No GET lost" means every GET that the killed process had not begun to answer: one whose
 * answer was already streaming to the client when SIGKILL came cannot be sent again (its status
 * and headers are out), and is cut with the connection closed, as any proxy does. With downloads
 * up to 70 KB (two backend writes) about 1 in 6,000 GETs met that; the GETs here fit in one write.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BackendPoolIT {

    private static final Duration KILL_PHASE = Duration.ofSeconds(15);
    private static final Duration KILL_INTERVAL = Duration.ofMillis(1_500);
    private static final Duration HARD_LIMIT = Duration.ofSeconds(90);
    private static final int CLIENTS = 4;
    /** The backend's cold start: a request that waited for one would show in the recycle's p99. */
    private static final String START_DELAY_MS = "1500";
    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("dd-MMM-yyyy HH:mm:ss.SSS", Locale.ENGLISH);
    private static final Pattern LOG_LINE = Pattern.compile("^(\\d\\d-\\w{3}-\\d{4} \\d\\d:\\d\\d:\\d\\d\\.\\d{3}) .*$",
            Pattern.MULTILINE);

    private static TomcatDistribution tomcat;
    private static ChaosClients clients;

    @BeforeAll
    static void startTomcat() {
        tomcat = TomcatDistribution.named("pool").create();
        tomcat.writeApp("pair", PorticoXml.nodeBackend().attribute("stdoutLogEnabled", "false")
                .attribute("processesPerApplication", "2").attribute("rapidFailsPerMinute", "100").asFile());
        tomcat.writeApp("rolling", PorticoXml.nodeBackend().attribute("stdoutLogEnabled", "false")
                .attribute("processesPerApplication", "2").env("BACKEND_START_DELAY_MS", START_DELAY_MS).asFile());
        tomcat.start();
        clients = new ChaosClients(tomcat.httpPort());
        for (String app : List.of("pair", "rolling")) {
            tomcat.http().getJson("/" + app + "/env");
            Poll.until(Duration.ofSeconds(30), "two ready processes of " + app,
                    () -> backendsOf(app).size() == 2 && readyCount(app) >= 2);
        }
    }

    @AfterAll
    static void stopTomcatAndCheckItsLog() {
        ChaosClients.closeAll(clients);
        // the crashes are provoked: their WARNING lines carry no stack trace and no SEVERE
        TomcatDistribution.closeAndAssertCleanLog(tomcat);
    }

    @Test
    @Order(1)
    void killingOneOfTwoProcessesEveryOneAndAHalfSecondsLosesNoGet() {
        LossTally gets = new LossTally("pool kill -9 of one of 2 processes every 1.5 s: GETs (" + CLIENTS
                + " keep-alive clients)");
        AtomicInteger kills = new AtomicInteger();
        Deadline deadline = Deadline.in(KILL_PHASE);
        List<Callable<Void>> tasks = new ArrayList<>(clients.keepAliveTasks(CLIENTS, 21_000, (id, keepAlive, random) -> {
            for (int i = 0; !deadline.passed(); i++) {
                if (i % 2 == 0) {
                    // below the backend's 64 KiB write: an answer half sent when its process is
                    // killed is cut for good (the client already has its head); see the class doc
                    clients.download(keepAlive, gets, "pair", random.nextInt(16_384));
                } else {
                    clients.mirror(keepAlive, gets, "pair", "g" + id + "-" + i, null,
                            ChaosClients.Framing.CONTENT_LENGTH, false, false);
                }
            }
        }));
        tasks.add(() -> {
            SplittableRandom random = new SplittableRandom(5);
            while (!deadline.passed()) {
                Poll.sleep(KILL_INTERVAL);
                List<ProcessHandle> backends = backendsOf("pair");
                if (!deadline.passed() && !backends.isEmpty()) {
                    backends.get(random.nextInt(backends.size())).destroyForcibly();
                    kills.incrementAndGet();
                }
            }
            return null;
        });
        clients.runConcurrently(HARD_LIMIT, tasks);
        Poll.until(Duration.ofSeconds(30), "the pool of pair back at two", () -> readyCount("pair") >= 2);
        List<Long> crashToServing = crashToServingMillis("pair");
        gets.figure("kills", kills.get());
        gets.print();
        System.out.println("[pool] GETs=" + gets.sentCount() + " lost=" + gets.lostCount() + " kills=" + kills.get()
                + " crash-to-serving ms (log: 'exited with code' to the replacement's 'is ready after'): "
                + crashToServing + " median " + percentile(crashToServing, 0.5) + " max " + percentile(crashToServing, 1.0));
        assertTrue(kills.get() >= 5, "killed only " + kills.get() + " times");
        assertTrue(crashToServing.size() >= kills.get() / 2, "replacements seen in the log: " + crashToServing);
        gets.assertNothingLost();
    }

    @Test
    @Order(2)
    void aRestartTxtRecycleUnderLoadFailsNoRequest() throws Exception {
        LossTally requests = new LossTally("pool restart.txt recycle of 2 processes (" + CLIENTS + " keep-alive clients)");
        List<Long> steady = Collections.synchronizedList(new ArrayList<>());
        List<Long> during = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean touched = new AtomicBoolean();
        AtomicBoolean done = new AtomicBoolean();
        List<Long> oldPids = backendsOf("rolling").stream().map(ProcessHandle::pid).toList();
        String logBefore = tomcat.log();
        Deadline deadline = Deadline.in(Duration.ofSeconds(60));
        List<Callable<Void>> tasks = new ArrayList<>(clients.keepAliveTasks(CLIENTS, 31_000, (id, keepAlive, random) -> {
            while (!done.get() && !deadline.passed()) {
                boolean duringRecycle = touched.get();
                long begin = System.nanoTime();
                clients.download(keepAlive, requests, "rolling", random.nextInt(20_000));
                (duringRecycle ? during : steady).add((System.nanoTime() - begin) / 1_000_000);
            }
        }));
        tasks.add(() -> {
            Poll.sleep(Duration.ofSeconds(3));
            var restart = tomcat.appDir("rolling").resolve("restart.txt");
            Files.writeString(restart, "");
            Files.setLastModifiedTime(restart, FileTime.from(Instant.now().plusSeconds(2)));
            touched.set(true);
            Poll.until(Duration.ofSeconds(40), "the old generation of rolling gone and the new one ready",
                    () -> oldPids.stream().noneMatch(Pids::isRunning) && readyCount("rolling") >= 2);
            Poll.sleep(Duration.ofSeconds(1));
            done.set(true);
            return null;
        });
        clients.runConcurrently(HARD_LIMIT, tasks);
        requests.print();
        String recycleLog = tomcat.log().substring(Math.min(logBefore.length(), tomcat.log().length()));
        System.out.println("[pool] recycle: requests=" + requests.sentCount() + " failed=" + requests.lostCount()
                + " steady p99 " + percentile(steady, 0.99) + " ms over " + steady.size()
                + "; during the recycle p99 " + percentile(during, 0.99) + " ms, max " + percentile(during, 1.0)
                + " ms over " + during.size() + " (cold start " + START_DELAY_MS + " ms)");
        assertTrue(recycleLog.contains("is ready and takes the requests"), "no switch-over in the log");
        assertTrue(done.get(), "the recycle did not finish");
        assertTrue(during.size() > 20, "too few requests during the recycle: " + during.size());
        requests.assertNothingLost();
    }

    // ---------------------------------------------------------------------------------------------

    private static List<ProcessHandle> backendsOf(String app) {
        return ProcessHandle.of(tomcat.tomcatPid()).stream()
                .flatMap(ProcessHandle::descendants)
                .filter(Pids::isRunning)
                .filter(handle -> Pids.environment(handle.pid()).contains("PORTICO_PATH_BASE=/" + app))
                .toList();
    }

    /** Processes of {@code app} that the log says are ready, less those it says exited or stopped. */
    private static int readyCount(String app) {
        String log = tomcat.log();
        int count = 0;
        for (ProcessHandle backend : backendsOf(app)) {
            if (Pattern.compile("Portico app \\[" + app + "\\]: process pid " + backend.pid() + " on \\S+ is ready after")
                    .matcher(log).find()) {
                count++;
            }
        }
        return count;
    }

    /** From each "exited with code" line of {@code app} to the next "is ready after" line of it, in ms. */
    private static List<Long> crashToServingMillis(String app) {
        String log = Files.exists(tomcat.consoleLog()) ? readConsole() : "";
        List<Long> result = new ArrayList<>();
        LocalDateTime crashAt = null;
        Matcher line = LOG_LINE.matcher(log);
        while (line.find()) {
            String text = line.group();
            if (!text.contains("Portico app [" + app + "]")) {
                continue;
            }
            LocalDateTime at = LocalDateTime.parse(line.group(1), LOG_TIME);
            if (text.contains("exited with code") && crashAt == null) {
                crashAt = at;
            } else if (text.contains("is ready after") && crashAt != null) {
                result.add(Duration.between(crashAt, at).toMillis());
                crashAt = null;
            }
        }
        return result;
    }

    private static String readConsole() {
        try {
            return Files.readString(tomcat.consoleLog());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long percentile(List<Long> values, double p) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.isEmpty() ? 0 : sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(p * sorted.size()) - 1));
    }
}
