package dev.portico.inprocess;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sends what an in-process app prints to System.out / System.err to that app's stdout log.
 *
 * <p>A JVM has one System.out. Portico replaces it (once, on the first app with
 * stdoutLogEnabled) by a stream that looks at the printing thread's context class loader: when
 * it is — or is the parent of, for JSP — the web application class loader of an app that
 * registered a log, the bytes go to that app's log; otherwise to the stream that was System.out
 * before (Tomcat's SystemLogHandler, if installed, keeps capturing for swallowOutput). Request
 * threads run with the app's loader as context loader, and threads an app starts inherit it.
 *
 * <p>Limits: threads whose context loader is not the app's (the common ForkJoinPool, JDK
 * timers, threads created by Tomcat or a library in lib/ on the app's behalf) print to the
 * console; code that kept a reference to the original System.out (a ConsoleHandler created
 * before Portico started) is not redirected.
 */
final class AppOutput {

    private static final Map<ClassLoader, OutputStream> LOGS = new ConcurrentHashMap<>();
    private static boolean installed;

    private AppOutput() {
    }

    static synchronized void register(ClassLoader loader, OutputStream log) {
        if (!installed) {
            // bytes pass through unchanged to the console streams, encoded as the JVM encodes text by default
            Charset charset = Charset.defaultCharset();
            System.setOut(new PrintStream(new Router(System.out), true, charset));
            System.setErr(new PrintStream(new Router(System.err), true, charset));
            installed = true;
        }
        LOGS.put(loader, log);
    }

    static void unregister(ClassLoader loader) {
        LOGS.remove(loader);
    }

    private static OutputStream logOf(Thread thread) {
        if (LOGS.isEmpty()) {
            return null;
        }
        ClassLoader loader = thread.getContextClassLoader();
        for (int depth = 0; loader != null && depth < 3; depth++, loader = loader.getParent()) {
            OutputStream log = LOGS.get(loader);
            if (log != null) {
                return log;
            }
        }
        return null;
    }

    private static final class Router extends OutputStream {
        private final OutputStream console;

        Router(OutputStream console) {
            this.console = console;
        }

        private OutputStream target() {
            OutputStream log = logOf(Thread.currentThread());
            return log != null ? log : console;
        }

        @Override
        public void write(int b) throws IOException {
            OutputStream target = target();
            synchronized (target) {
                target.write(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            OutputStream target = target();
            // one app's log is shared by its threads; keep each write whole (and a rotation between two)
            synchronized (target) {
                target.write(b, off, len);
            }
        }

        @Override
        public void flush() throws IOException {
            OutputStream target = target();
            synchronized (target) {
                target.flush();
            }
        }
    }
}
