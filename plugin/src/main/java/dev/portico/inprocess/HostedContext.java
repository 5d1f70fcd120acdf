package dev.portico.inprocess;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.apache.catalina.core.StandardContext;
import org.apache.juli.logging.Log;

/**
 * The Context of an in-process app: a plain {@link StandardContext} that also remembers the
 * first error it logged. A Context that fails to start (a listener or filter that throws, a
 * load-on-startup servlet with failCtxIfServletStartFails) does not throw: it logs why through
 * its own logger and ends up STOPPED. Portico needs that "why" for the 500.30 page.
 */
final class HostedContext extends StandardContext {

    private volatile boolean retiring;
    private volatile String firstError;
    private volatile String firstErrorDetails;
    private volatile Log capturing;

    /**
     * Called before the Context is stopped and removed. The internal Engine's background thread
     * binds a Context's class loader and then waits for the Context's monitor, which a stop holds:
     * caught there, it is reported as a thread the application "failed to stop". A retiring
     * Context skips its background work, so the thread leaves it at once.
     */
    void retire() {
        retiring = true;
    }

    @Override
    public void backgroundProcess() {
        if (!retiring) {
            super.backgroundProcess();
        }
    }

    /** The first error logged since the Context was created, or null. */
    String firstError() {
        return firstError;
    }

    String firstErrorDetails() {
        return firstErrorDetails;
    }

    @Override
    public Log getLogger() {
        Log current = capturing;
        if (current == null) {
            current = new CapturingLog(super.getLogger());
            capturing = current;
        }
        return current;
    }

    private void remember(Object message, Throwable t) {
        if (firstError != null) {
            return;
        }
        StringBuilder summary = new StringBuilder(String.valueOf(message));
        Throwable root = t;
        while (root != null && root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != null) {
            summary.append(": ").append(root);
            firstErrorDetails = stackTrace(t);
        }
        firstError = summary.toString();
    }

    static String stackTrace(Throwable t) {
        StringWriter trace = new StringWriter();
        t.printStackTrace(new PrintWriter(trace));
        return trace.toString();
    }

    private final class CapturingLog implements Log {
        private final Log delegate;

        CapturingLog(Log delegate) {
            this.delegate = delegate;
        }

        @Override public boolean isDebugEnabled() { return delegate.isDebugEnabled(); }
        @Override public boolean isErrorEnabled() { return delegate.isErrorEnabled(); }
        @Override public boolean isFatalEnabled() { return delegate.isFatalEnabled(); }
        @Override public boolean isInfoEnabled() { return delegate.isInfoEnabled(); }
        @Override public boolean isTraceEnabled() { return delegate.isTraceEnabled(); }
        @Override public boolean isWarnEnabled() { return delegate.isWarnEnabled(); }
        @Override public void trace(Object message) { delegate.trace(message); }
        @Override public void trace(Object message, Throwable t) { delegate.trace(message, t); }
        @Override public void debug(Object message) { delegate.debug(message); }
        @Override public void debug(Object message, Throwable t) { delegate.debug(message, t); }
        @Override public void info(Object message) { delegate.info(message); }
        @Override public void info(Object message, Throwable t) { delegate.info(message, t); }
        @Override public void warn(Object message) { delegate.warn(message); }
        @Override public void warn(Object message, Throwable t) { delegate.warn(message, t); }

        @Override
        public void error(Object message) {
            remember(message, null);
            delegate.error(message);
        }

        @Override
        public void error(Object message, Throwable t) {
            remember(message, t);
            delegate.error(message, t);
        }

        @Override
        public void fatal(Object message) {
            remember(message, null);
            delegate.fatal(message);
        }

        @Override
        public void fatal(Object message, Throwable t) {
            remember(message, t);
            delegate.fatal(message, t);
        }
    }
}
