package dev.portico.outofprocess.pool;

import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.hosting.HostingEvents;
import dev.portico.outofprocess.backend.HttpProbe;
import dev.portico.outofprocess.process.BackendProcess;
import dev.portico.outofprocess.process.ChildRegistry;
import dev.portico.outofprocess.process.SocketDirectory;

/**
 * What all pools of a Host share; the valve owns the threads and ends them when it stops.
 *
 * @param scheduler short non-blocking tasks: readiness probes, timers, maintenance
 * @param blockingExecutor launches and stops, which wait for processes
 * @param outputThreads the threads that drain each process's output
 * @param events who is told of every start, exit and failure
 * @param httpProbe the GET of readiness and health checks, and the shutdown message
 * @param sockets where the sockets of transport="unix" processes are made
 */
public record PoolServices(ChildRegistry registry, ScheduledExecutorService scheduler, Executor blockingExecutor,
        ThreadFactory outputThreads, HostingEvents events, HttpProbe httpProbe, SocketDirectory sockets, Clock clock) {

    private static final Log log = LogFactory.getLog(PoolServices.class);
    private static final StringManager sm = StringManager.getManager(PoolServices.class);

    /** On a valve thread; on this one when the valve is stopping (its executor then refuses work). */
    CompletableFuture<Void> runAsync(Runnable task) {
        try {
            return CompletableFuture.runAsync(task, blockingExecutor);
        } catch (RejectedExecutionException stopping) {
            task.run();
            return CompletableFuture.completedFuture(null);
        }
    }

    /** Kills the process's whole tree, off the caller's thread when the valve still runs. */
    void kill(BackendProcess backend) {
        try {
            blockingExecutor.execute(backend::killNow);
        } catch (RejectedExecutionException stopping) {
            backend.killNow();
        }
    }

    /** Runs an observer's or a follow-up's task; one that throws is logged, never thrown at the pool. */
    static void runQuietly(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            log.warn(sm.getString("pool.eventFailed", e.toString()), e);
        }
    }
}
