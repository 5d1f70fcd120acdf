package dev.portico.inprocess;

import java.io.IOException;
import java.nio.file.Path;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.AppConfig;
import dev.portico.hosting.AppSource;
import dev.portico.hosting.StdoutLog;

/**
 * The stdout log of one generation. It opens when the generation's Context configures, because
 * only then does the web application class loader it is routed by exist, and closes when the
 * Context stops or is removed, whichever comes first.
 */
final class StdoutCapture {

    // InProcessApp's category and messages: moving the code out of it changed no log line
    private static final Log log = LogFactory.getLog(InProcessApp.class);
    private static final StringManager sm = StringManager.getManager(InProcessApp.class);

    private final AppSource source;
    private final AppConfig config;
    private StdoutLog stdout;
    private ClassLoader stdoutLoader;

    StdoutCapture(AppSource source, AppConfig config) {
        this.source = source;
        this.config = config;
    }

    synchronized void open(ClassLoader loader) {
        long pid = ProcessHandle.current().pid();
        try {
            stdout = StdoutLog.open(config, pid);
            stdoutLoader = loader;
            AppOutput.register(loader, stdout);
            log.info(sm.getString("inProcess.stdoutLog", source.name(), stdout.file()));
        } catch (IOException | RuntimeException e) {
            log.warn(sm.getString("inProcess.stdoutLogFailed", source.name(),
                    StdoutLog.fileName(config.stdoutLogFile(), pid), e.toString()));
        }
    }

    /** The file being written, or null while no log is open. */
    synchronized Path file() {
        return stdout == null ? null : stdout.file();
    }

    synchronized void close() {
        if (stdoutLoader != null) {
            AppOutput.unregister(stdoutLoader);
            stdoutLoader = null;
        }
        if (stdout != null) {
            try {
                stdout.close();
            } catch (IOException e) {
                // nothing to do
            }
            stdout = null;
        }
    }
}
