package dev.portico.integration;

import java.util.Optional;
import java.util.logging.Logger;

/**
 * Stops the backend when the front Tomcat JVM that started it is gone, so that a crashed or killed
 * front never leaves orphans holding ports.
 *
 * <p>Polls once a second rather than using {@code ProcessHandle.onExit()}: for a process that is
 * not our child the JDK polls too, but with a back-off that grows to five seconds.
 * {@code ProcessHandle.isAlive()} compares the start time, so a recycled pid does not fool it.
 */
final class ParentProcessWatcher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ParentProcessWatcher.class.getName());
    private static final long POLL_MILLIS = 1000;

    private final Thread thread;

    private ParentProcessWatcher(long pid, ShutdownAction onParentGone) {
        Optional<ProcessHandle> parent = ProcessHandle.of(pid);
        this.thread = new Thread(() -> watch(pid, parent, onParentGone), "portico-parent-watch");
        thread.setDaemon(true);
        // Do not pin the web application's class loader for the life of the thread.
        thread.setContextClassLoader(ParentProcessWatcher.class.getClassLoader());
    }

    static ParentProcessWatcher start(long pid, ShutdownAction onParentGone) {
        ParentProcessWatcher watcher = new ParentProcessWatcher(pid, onParentGone);
        watcher.thread.start();
        LOG.fine(() -> "Watching parent process " + pid);
        return watcher;
    }

    private static void watch(long pid, Optional<ProcessHandle> parent, ShutdownAction onParentGone) {
        try {
            while (parent.isPresent() && parent.get().isAlive()) {
                Thread.sleep(POLL_MILLIS);
            }
        } catch (InterruptedException e) {
            return; // closed: the application is being undeployed
        }
        LOG.info(() -> "Parent process " + pid + " is gone");
        onParentGone.shutdown("parent process " + pid + " is gone");
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}
