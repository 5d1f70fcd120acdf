package dev.portico.outofprocess.process;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ThreadFactory;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.AppConfig;
import dev.portico.hosting.StdoutLog;

/**
 * Drains a child's merged stdout/stderr so it never blocks on a full pipe, keeps the last
 * {@value #TAIL_BYTES} bytes for the startup-failure page, and — with stdoutLogEnabled — writes
 * everything to the process's {@link StdoutLog}, rotated by size.
 * One platform thread per child: reading a pipe is blocking I/O with nothing to multiplex.
 */
public final class OutputCapture implements Runnable {

    static final int TAIL_BYTES = 30 * 1024;
    private static final Log log = LogFactory.getLog(OutputCapture.class);
    private static final StringManager sm = StringManager.getManager(OutputCapture.class);

    private final InputStream source;
    private final byte[] tail = new byte[TAIL_BYTES];
    private long written;
    private final Path logFile;
    private StdoutLog sink;
    private final Thread thread;

    private OutputCapture(InputStream source, StdoutLog sink, ThreadFactory threads, String name) {
        this.source = source;
        this.logFile = sink == null ? null : sink.file();
        this.sink = sink;
        this.thread = threads.newThread(this);
        this.thread.setName(name);
    }

    /**
     * @param config the app's stdoutLog* settings (no log when stdoutLogEnabled is off)
     * @param threads where the pump thread comes from (the valve's, so it carries no web application's loader);
     *                it ends when the process's output closes, that is when the last process holding it exits
     */
    public static OutputCapture start(InputStream source, AppConfig config, long pid, String appName,
            ThreadFactory threads) {
        StdoutLog sink = null;
        if (config.stdoutLogEnabled()) {
            try {
                sink = StdoutLog.open(config, pid);
            } catch (IOException | RuntimeException e) {
                // ANCM's rule: a log that cannot be written must not stop the app from starting.
                log.warn(sm.getString("outputCapture.cannotCreate", appName,
                        StdoutLog.fileName(config.stdoutLogFile(), pid), e.toString()));
            }
        }
        OutputCapture capture = new OutputCapture(source, sink, threads, "portico-stdout-" + appName + "-" + pid);
        capture.thread.start();
        return capture;
    }

    @Override
    public void run() {
        byte[] buffer = new byte[8192];
        try (InputStream in = source) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                remember(buffer, n);
                writeToLog(buffer, n);
            }
        } catch (IOException e) {
            // the pipe closes when the process dies: nothing more to capture
        } finally {
            closeLog();
        }
    }

    private synchronized void remember(byte[] buffer, int n) {
        for (int i = 0; i < n; i++) {
            tail[(int) ((written + i) % TAIL_BYTES)] = buffer[i];
        }
        written += n;
    }

    private void writeToLog(byte[] buffer, int n) {
        OutputStream out = sink;
        if (out == null) {
            return;
        }
        try {
            out.write(buffer, 0, n);
            out.flush();
        } catch (IOException e) {
            log.warn(sm.getString("outputCapture.writeFailed", logFile, e.toString()));
            closeLog();
        }
    }

    private synchronized void closeLog() {
        if (sink != null) {
            try {
                sink.close();
            } catch (IOException ignored) {
                // best effort: the data already went to the tail
            }
            sink = null;
        }
    }

    /** Waits briefly for the pipe to drain, so a process that just died has all its last words captured. */
    public void awaitEnd(long millis) {
        try {
            thread.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The last output, at most {@value #TAIL_BYTES} bytes, cut to whole lines where possible. */
    public synchronized String tail() {
        int size = (int) Math.min(written, TAIL_BYTES);
        byte[] copy = new byte[size];
        long start = written - size;
        for (int i = 0; i < size; i++) {
            copy[i] = tail[(int) ((start + i) % TAIL_BYTES)];
        }
        String text = new String(copy, StandardCharsets.UTF_8);
        if (start > 0) {
            int firstBreak = text.indexOf('\n');
            if (firstBreak >= 0) {
                text = text.substring(firstBreak + 1);
            }
        }
        return text;
    }

    /** The log file being written (its name stays across rotations), or null when stdout logging is off or failed. */
    public Path logFile() {
        return logFile;
    }

    /**
     * The last {@code count} lines of {@code text} (a final line break does not count as a line).
     * Runs on the crash path, so it must take any text, the empty output of a silent process too.
     */
    public static String lastLines(String text, int count) {
        int pos = text.endsWith("\n") ? text.length() - 1 : text.length();
        for (int i = 0; i < count; i++) {
            pos = text.lastIndexOf('\n', pos - 1);
            if (pos < 0) {
                return text;
            }
        }
        return text.substring(pos + 1);
    }
}
