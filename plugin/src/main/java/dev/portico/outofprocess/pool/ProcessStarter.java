package dev.portico.outofprocess.pool;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.AppConfig;
import dev.portico.config.BackendTransport;
import dev.portico.hooks.api.ProcessStarting;
import dev.portico.hosting.StartFailure;
import dev.portico.outofprocess.backend.BackendAddress;
import dev.portico.outofprocess.process.BackendProcess;
import dev.portico.outofprocess.process.OutputCapture;
import dev.portico.outofprocess.process.ProcessLauncher;

/**
 * Starts one process of a pool and probes it until it is ready: the lifecycle hooks that may
 * veto or extend the start, a free port (or a socket), the process, its output, and readiness —
 * readinessPath answering 2xx, or without one the port accepting a connection, polled from 1 ms
 * up to {@value #PROBE_INTERVAL_MAX_MILLIS} ms apart so that a process is in service within a few
 * milliseconds of being able to answer (a refused probe on loopback costs microseconds). What
 * comes of it goes to the pool: launched, ready, failed, exited.
 */
final class ProcessStarter {

    /** The longest wait between two readiness probes of a starting process. */
    static final long PROBE_INTERVAL_MAX_MILLIS = 4;
    /** How long one readiness or health probe may take. */
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);

    private static final Log log = LogFactory.getLog(ProcessStarter.class);
    private static final StringManager sm = StringManager.getManager(ProcessStarter.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Members members;
    private final String appName;
    private final String contextPath;
    private final AppConfig config;
    private final long generation;
    private final ProcessLauncher launcher;
    private final PoolServices services;

    ProcessStarter(PoolContext context, Members members, Path warLocation) {
        this.members = members;
        this.appName = context.appName();
        this.contextPath = context.contextPath();
        this.config = context.config();
        this.generation = context.generation();
        this.services = context.services();
        this.launcher = new ProcessLauncher(config, contextPath, warLocation);
    }

    /** Launches a process on a valve thread, without the pool's lock: the hooks, the port, the process. */
    void launch(CompletableFuture<Void> launch) {
        try {
            services.blockingExecutor().execute(() -> {
                LaunchFailure failure = null;
                try {
                    failure = launchNow();
                } catch (RuntimeException e) {
                    failure = new LaunchFailure(launchFailed(e.toString()), false);
                } finally {
                    members.launchFinished(launch);
                }
                if (failure != null) {
                    // after the launch is counted out, so that the next attempt is not held back by this one
                    members.startFailed(null, failure.failure(), failure.vetoed());
                }
            });
        } catch (RejectedExecutionException stopping) {
            members.launchFinished(launch);
        }
    }

    private record LaunchFailure(StartFailure failure, boolean vetoed) {
    }

    /** @return null when the process was started */
    private LaunchFailure launchNow() {
        String token = HexFormat.of().formatHex(randomBytes(24));
        ProcessStarting question = new ProcessStarting(appName, generation, List.of(), Map.of());
        services.events().ask(question);
        if (question.vetoed()) {
            return new LaunchFailure(new StartFailure(sm.getString("pool.vetoed", appName, question.vetoReason()), "",
                    null), true);
        }
        List<String> arguments = question.arguments();
        Map<String, String> environment = question.environment();
        String route = HexFormat.of().formatHex(randomBytes(8));
        BackendAddress address;
        Process process;
        try {
            address = config.transport() == BackendTransport.UNIX ? BackendAddress.unix(services.sockets().socketFor(route))
                    : BackendAddress.tcp(freeLoopbackPort());
            process = launcher.start(address, token, arguments, environment);
        } catch (IOException e) {
            return new LaunchFailure(launchFailed(e.getMessage()), false);
        }
        services.registry().add(process.toHandle(), appName);
        OutputCapture output = OutputCapture.start(process.getInputStream(), config, process.pid(), appName,
                services.outputThreads());
        BackendProcess backend = new BackendProcess(process, address, token, output, generation, route);
        boolean kept = members.launched(backend);
        // off the JDK's process reaper thread: onExit waits briefly for the output pipe to drain
        backend.onExit().whenCompleteAsync((p, x) -> members.exited(backend, whatReadinessIs()), services.blockingExecutor());
        if (!kept) {
            // the pool stopped while it was being launched
            backend.killNow();
            return null;
        }
        log.info(sm.getString("pool.launched", appName, String.valueOf(process.pid()), address.toString(),
                String.valueOf(generation)));
        long deadline = System.nanoTime() + config.startupTimeLimit().toNanos();
        services.scheduler().execute(() -> probe(backend, deadline, 1));
        return null;
    }

    private StartFailure launchFailed(String why) {
        return new StartFailure(sm.getString("pool.launchFailed", appName, String.join(" ", launcher.command()),
                config.appDirectory(), why), "", null);
    }

    private static byte[] randomBytes(int count) {
        byte[] bytes = new byte[count];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** One readiness probe; a child that exits fails the start at once (its exit does). */
    private void probe(BackendProcess backend, long deadline, long delayMillis) {
        try {
            if (backend.state() != BackendProcess.State.STARTING || !backend.isAlive()) {
                return; // the exit takes it from here
            }
            if (System.nanoTime() - deadline >= 0) {
                timedOut(backend);
                return;
            }
            long next = Math.min(delayMillis * 2, PROBE_INTERVAL_MAX_MILLIS);
            Runnable again = () -> services.scheduler().schedule(() -> probe(backend, deadline, next), delayMillis,
                    TimeUnit.MILLISECONDS);
            long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            Duration timeout = Duration.ofMillis(Math.min(PROBE_TIMEOUT.toMillis(), left));
            passes(backend, timeout, true).whenComplete((ready, error) -> {
                if (error == null && ready) {
                    members.becameReady(backend);
                } else {
                    rescheduleQuietly(again);
                }
            });
        } catch (RejectedExecutionException stopping) {
            // the valve is stopping: so is this pool
        } catch (Throwable t) {
            // a probe that died silently would leave every waiting request parked for good
            members.startFailed(backend, new StartFailure(sm.getString("pool.probeFailed", appName, backend, t.toString()),
                    backend.output().tail(), backend.output().logFile()), false);
            services.kill(backend);
        }
    }

    /**
     * Whether {@code backend} is ready: readinessPath answers 2xx, or without one its port (or
     * socket) accepts a connection — checked on the calling thread when {@code here}, else on a
     * valve thread.
     */
    CompletableFuture<Boolean> passes(BackendProcess backend, Duration timeout, boolean here) {
        String path = config.pool().readinessPath();
        if (path == null) {
            return here ? CompletableFuture.completedFuture(backend.address().accepts(250))
                    : CompletableFuture.supplyAsync(() -> backend.address().accepts(250), services.blockingExecutor());
        }
        return services.httpProbe().get(backend.address(), contextPath + path, backend.token(), timeout)
                .handle((status, error) -> error == null && status >= 200 && status < 300);
    }

    private static void rescheduleQuietly(Runnable again) {
        try {
            again.run();
        } catch (RejectedExecutionException stopping) {
            // the valve is stopping
        }
    }

    private void timedOut(BackendProcess backend) {
        members.startFailed(backend, new StartFailure(sm.getString("pool.startTimeout", appName, backend,
                String.valueOf(config.startupTimeLimit().toSeconds()), whatReadinessIs()),
                backend.output().tail(), backend.output().logFile()), true);
        services.kill(backend);
    }

    /** What a process must do to be ready, for messages: "accept connections on its port" or "answer 2xx at /path". */
    String whatReadinessIs() {
        String path = config.pool().readinessPath();
        return path == null ? sm.getString("pool.listen") : sm.getString("pool.answer", path);
    }
}
