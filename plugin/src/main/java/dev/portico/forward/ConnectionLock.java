package dev.portico.forward;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.concurrent.locks.Lock;

import org.apache.catalina.connector.Request;
import org.apache.coyote.AbstractProcessor;
import org.apache.coyote.http11.Http11Processor;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.net.SocketWrapperBase;
import org.apache.tomcat.util.res.StringManager;

/**
 * The lock under which Tomcat processes every event of one HTTP/1.1 connection, so that a thread
 * that is not Tomcat's can end an async cycle without racing with one of those events.
 *
 * <p>Why: {@code AsyncContext.complete()} from a thread of Tomcat's own is safe, because a
 * callback runs under this lock and Tomcat defers the completion until the callback returns. From
 * any other thread, Tomcat moves the cycle to COMPLETING at once, while a container thread may be
 * just entering the processing of a read or write event (its check of the listener and its
 * {@code asyncOperation()} are two steps): it then fails with "asyncOperation() is not valid …
 * COMPLETING", logged SEVERE, and the next request on that keep-alive connection is lost. Taking
 * this lock first makes the completion wait until no event is being processed. The Servlet API
 * has no way to it, so it is reached by reflection, once per class; HTTP/2 streams (whose lock is
 * the whole connection's) and a Tomcat whose internals differ get none, and keep the plain call.
 */
final class ConnectionLock {

    private static final Log log = LogFactory.getLog(ConnectionLock.class);
    private static final StringManager sm = StringManager.getManager(ConnectionLock.class);
    private static final Field HOOK;
    private static final Method SOCKET_WRAPPER;

    static {
        Field hook = null;
        Method socketWrapper = null;
        try {
            hook = org.apache.coyote.Request.class.getDeclaredField("hook");
            hook.setAccessible(true);
            socketWrapper = AbstractProcessor.class.getDeclaredMethod("getSocketWrapper");
            socketWrapper.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn(sm.getString("connectionLock.unreachable"), e);
            hook = null;
            socketWrapper = null;
        }
        HOOK = hook;
        SOCKET_WRAPPER = socketWrapper;
    }

    private ConnectionLock() {
    }

    /** The lock of the HTTP/1.1 connection {@code request} arrived on, or null (HTTP/2, or not reachable). */
    static Lock of(Request request) {
        if (HOOK == null) {
            return null;
        }
        try {
            Object processor = HOOK.get(request.getCoyoteRequest());
            if (processor instanceof Http11Processor) {
                SocketWrapperBase<?> wrapper = (SocketWrapperBase<?>) SOCKET_WRAPPER.invoke(processor);
                return wrapper == null ? null : wrapper.getLock();
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug(sm.getString("connectionLock.unreachable"), e);
        }
        return null;
    }
}
