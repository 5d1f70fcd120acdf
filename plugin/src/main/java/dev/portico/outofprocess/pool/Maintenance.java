package dev.portico.outofprocess.pool;

import java.util.List;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.PoolConfig;
import dev.portico.outofprocess.backend.Backend;
import dev.portico.outofprocess.process.BackendProcess;

/**
 * What an active pool checks every second, when any of it is asked for: idleness (idleTimeout
 * stops the processes), memory (memoryLimit replaces a process once its replacement is ready),
 * health ({@link HealthChecks} every healthCheckInterval). Runs on the valve's scheduler.
 */
final class Maintenance implements Runnable {

    private static final Log log = LogFactory.getLog(Maintenance.class);
    private static final StringManager sm = StringManager.getManager(Maintenance.class);

    private final BackendPool pool;
    private final String appName;
    private final PoolConfig config;
    private final HealthChecks healthChecks;

    Maintenance(BackendPool pool, PoolContext context, ProcessStarter starter) {
        this.pool = pool;
        this.appName = context.appName();
        this.config = context.config().pool();
        this.healthChecks = new HealthChecks(config.healthCheckInterval(), System::nanoTime,
                backend -> starter.passes((BackendProcess) backend, ProcessStarter.PROBE_TIMEOUT, false),
                (backend, inARow) -> pool.replace((BackendProcess) backend, sm.getString("pool.reason.health",
                        String.valueOf(inARow), starter.whatReadinessIs()), true));
    }

    /** Whether anything needs checking periodically. */
    boolean needed() {
        return !config.idleTimeout().isZero() || config.memoryLimitBytes() > 0 || healthChecks.enabled();
    }

    @Override
    public void run() {
        try {
            check();
        } catch (Throwable t) {
            // a periodic task that throws is never run again
            log.error(sm.getString("pool.maintenanceFailed", appName), t);
        }
    }

    private void check() {
        List<BackendProcess> members = pool.membersToMaintain();
        if (members == null || pool.stopIfIdle()) {
            return;
        }
        long limit = config.memoryLimitBytes();
        for (BackendProcess backend : members) {
            if (limit > 0 && backend.state() == BackendProcess.State.READY && !backend.isRetiring()) {
                long resident = backend.residentBytes();
                if (resident > limit) {
                    pool.replace(backend, sm.getString("pool.reason.memory", String.valueOf(resident >> 20),
                            String.valueOf(limit >> 20)), false);
                }
            }
        }
        healthChecks.tick(members.stream().filter(b -> b.state() == BackendProcess.State.READY).toList());
    }

    void forget(Backend backend) {
        healthChecks.forget(backend);
    }
}
