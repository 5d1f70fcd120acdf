package dev.portico.outofprocess.pool;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import dev.portico.hosting.AppStatus;
import dev.portico.outofprocess.process.BackendProcess;

/** A pool as operators see it: the status page, JSON, JMX. */
final class PoolStatus {

    /** What is read under the pool's lock; the rest (each process's memory, from /proc) after. */
    record Snapshot(List<BackendProcess> processes, String state, int starts, int crashes, AppStatus.Failure lastFailure,
            Instant nextAttemptAt) {
    }

    private PoolStatus() {
    }

    static AppStatus of(Snapshot snapshot, String description, long generation) {
        List<AppStatus.ProcessStatus> processes = new ArrayList<>();
        int inFlight = 0;
        Path stdoutLog = null;
        for (BackendProcess process : snapshot.processes()) {
            processes.add(process.status());
            inFlight += process.inFlight();
            // the file being written (the prefix is no file): the newest member's, which a rotation keeps the name of
            if (process.output().logFile() != null && process.state() != BackendProcess.State.DRAINING
                    && process.state() != BackendProcess.State.EJECTED) {
                stdoutLog = process.output().logFile();
            }
        }
        return new AppStatus("outOfProcess", snapshot.state(), description, generation, snapshot.starts(),
                snapshot.crashes(), inFlight, snapshot.lastFailure(), snapshot.nextAttemptAt(), stdoutLog, processes, null);
    }
}
