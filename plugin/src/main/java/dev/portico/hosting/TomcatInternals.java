package dev.portico.hosting;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.concurrent.locks.Lock;

import org.apache.catalina.connector.Request;
import org.apache.coyote.AbstractProcessor;
import org.apache.coyote.ActionCode;
import org.apache.coyote.http11.Http11Processor;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.net.SocketWrapperBase;
import org.apache.tomcat.util.res.StringManager;

/**
 * What Portico relies on in Tomcat beyond the Servlet API, in one place; TomcatInternalsTest
 * fails when a Tomcat upgrade takes any of it away.
 *
 * <p><b>The connection lock.</b> {@code AsyncContext.complete()} or {@code dispatch()} from a
 * thread of Tomcat's own is safe, because a callback runs under the lock of its connection and
 * Tomcat defers the completion until the callback returns. From any other thread, Tomcat moves
 * the cycle on at once, while a container thread may be just entering the processing of a read or
 * write event of that connection (its check of the listener and its {@code asyncOperation()} are
 * two steps): it then fails with "asyncOperation() is not valid … COMPLETING", logged SEVERE, and
 * the next request on that keep-alive connection is lost. Taking the connection's lock first makes
 * the completion wait until no event is being processed. The Servlet API has no way to it, so it
 * is reached by reflection; HTTP/2 streams (whose lock is the whole connection's) and a Tomcat
 * whose internals differ get none, and keep the plain call.
 *
 * <p><b>The async timeout.</b> Once a second Tomcat sweeps the processors that wait in an async
 * cycle; for one whose timeout is not positive it asks whether the cycle's web application is
 * still running, and times the cycle out if not. That question has a wrong answer while
 * {@code startAsync()} is under way — the cycle is already counted (its generation) but has no
 * Context yet — so a processor whose last cycle set its timeout to 0 (Jetty's proxy does, for
 * "no timeout") could have its next request timed out the moment it went asynchronous, by
 * nobody's choice: Tomcat then answered its bare 500 and logged nothing. Every request Portico
 * hands to an app therefore starts with a timeout that never expires, and Portico's own cycles
 * keep it; Portico ends its cycles itself (requestTimeout, drains) and needs no sweep.
 */
public final class TomcatInternals {

    /** The async timeout of Portico's cycles: never ({@code now - start} cannot exceed it, unlike 0, which Tomcat reads as "until the webapp stops"). */
    public static final long NO_ASYNC_TIMEOUT = Long.MAX_VALUE;

    private static final Log log = LogFactory.getLog(TomcatInternals.class);
    private static final StringManager sm = StringManager.getManager(TomcatInternals.class);
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
            log.warn(sm.getString("tomcatInternals.lockUnreachable"), e);
            hook = null;
            socketWrapper = null;
        }
        HOOK = hook;
        SOCKET_WRAPPER = socketWrapper;
    }

    private TomcatInternals() {
    }

    /** The lock of the HTTP/1.1 connection {@code request} arrived on, or null (HTTP/2, or not reachable). */
    public static Lock connectionLock(Request request) {
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
            log.debug(sm.getString("tomcatInternals.lockUnreachable"), e);
        }
        return null;
    }

    /**
     * Gives the processor of {@code request} an async timeout that never expires, before anything
     * starts an async cycle for it: what an earlier request on the same processor left there
     * must not let Tomcat's sweep time this one out as it starts (see the class comment). An app
     * that starts a cycle sets its own timeout (Tomcat applies the connector's default first).
     */
    public static void protectFromAsyncSweep(Request request) {
        request.getCoyoteRequest().action(ActionCode.ASYNC_SETTIMEOUT, Long.valueOf(NO_ASYNC_TIMEOUT));
    }
}
