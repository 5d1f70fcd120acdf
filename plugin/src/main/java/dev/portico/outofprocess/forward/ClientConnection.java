package dev.portico.outofprocess.forward;

import java.security.Principal;
import java.util.concurrent.locks.Lock;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The client's side of a forwarded request, as the {@link Exchange} touches it: the request and
 * response, and what it asks of the container beyond the Servlet API's objects. One place for
 * what the exchange needs of Tomcat ({@link TomcatClientConnection}), so that the exchange's own
 * rules can be tested without it.
 */
interface ClientConnection {

    HttpServletRequest request();

    HttpServletResponse response();

    /** The user the container authenticated, as its Realm holds it, or null. */
    Principal authenticatedPrincipal();

    /** False once the container has recycled the request's objects for another request. */
    boolean stillThisRequest();

    /** The lock under which the container processes the connection's events, or null (HTTP/2). */
    Lock lock();

    /** Ends the async cycle, if one is started. */
    void complete();

    /** Dispatches the request into its servlet again (a new cycle); throws what the container refuses with. */
    void dispatch();

    /** Runs {@code task} on a container thread; throws IllegalStateException when the cycle is ending. */
    void onContainerThread(Runnable task);

    /** Closes the connection at once, without finishing the response. */
    void closeNow();

    /** Makes a response the container suspended after refusing the request's body writable again. */
    void unsuspend();
}
