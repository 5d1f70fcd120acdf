package dev.portico.hosting;

import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;

import org.apache.catalina.connector.Request;
import org.apache.catalina.core.AsyncContextImpl;

/**
 * When a request that a hosted app has handled is really over: at once for a synchronous
 * request, when its async cycle completes for an asynchronous one (a listener that follows the
 * request through every further {@code startAsync}).
 */
public final class RequestEnd {

    private RequestEnd() {
    }

    /**
     * Runs {@code onEnd} once, when the async cycle the request is in completes.
     *
     * @return false when the request is not (or no longer) asynchronous: its end is now, and the
     *         caller runs {@code onEnd} itself
     */
    public static boolean whenAsyncCompletes(Request request, Runnable onEnd) {
        if (!request.isAsync()) {
            return false;
        }
        AsyncContextImpl asyncContext = request.getAsyncContextInternal();
        if (asyncContext == null) {
            return false;
        }
        try {
            asyncContext.addListener(new Completion(onEnd));
            return true;
        } catch (IllegalStateException e) {
            return false; // recycled meanwhile: it has ended
        }
    }

    private static final class Completion implements AsyncListener {
        private final Runnable onEnd;
        private final AtomicBoolean done = new AtomicBoolean();

        Completion(Runnable onEnd) {
            this.onEnd = onEnd;
        }

        @Override
        public void onComplete(AsyncEvent event) {
            if (done.compareAndSet(false, true)) {
                onEnd.run();
            }
        }

        @Override
        public void onTimeout(AsyncEvent event) {
        }

        @Override
        public void onError(AsyncEvent event) {
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // a new cycle clears the listeners: stay for its end
            event.getAsyncContext().addListener(this);
        }
    }
}
