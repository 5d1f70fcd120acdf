package dev.portico.outofprocess.forward;

import java.security.Principal;
import java.util.concurrent.locks.Lock;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.coyote.ActionCode;

import dev.portico.hosting.TomcatInternals;

/** A forwarded request's client side in Tomcat. */
final class TomcatClientConnection implements ClientConnection {

    private final Request catalinaRequest;
    private final Response catalinaResponse;
    private final HttpServletRequest request;
    private final HttpServletResponse response;
    private final Lock lock;
    /** When Tomcat began this request: the identity of the request objects while they are this request's. */
    private final long requestStart;

    TomcatClientConnection(Request request, Response response) {
        this.catalinaRequest = request;
        this.catalinaResponse = response;
        this.request = request.getRequest();
        this.response = response.getResponse();
        this.lock = TomcatInternals.connectionLock(request);
        this.requestStart = request.getCoyoteRequest().getStartTimeNanos();
    }

    @Override
    public HttpServletRequest request() {
        return request;
    }

    @Override
    public HttpServletResponse response() {
        return response;
    }

    @Override
    public Principal authenticatedPrincipal() {
        return catalinaRequest.getPrincipal();
    }

    /**
     * Recycling resets a request's start time and the next request on the same objects has its
     * own (a field read; the attribute lookup it replaced cost more than the rest of the gate).
     */
    @Override
    public boolean stillThisRequest() {
        return catalinaRequest.getCoyoteRequest().getStartTimeNanos() == requestStart;
    }

    @Override
    public Lock lock() {
        return lock;
    }

    @Override
    public void complete() {
        try {
            if (request.isAsyncStarted()) {
                request.getAsyncContext().complete();
            }
        } catch (IllegalStateException e) {
            // Tomcat is already ending the cycle (an error it dispatched): it completes it itself
        }
    }

    @Override
    public void dispatch() {
        request.getAsyncContext().dispatch();
    }

    @Override
    public void onContainerThread(Runnable task) {
        request.getAsyncContext().start(task);
    }

    @Override
    public void closeNow() {
        catalinaResponse.getCoyoteResponse().action(ActionCode.CLOSE_NOW, null);
    }

    @Override
    public void unsuspend() {
        catalinaResponse.setSuspended(false);
    }
}
