package dev.portico.outofprocess.forward;

import java.io.IOException;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
import java.util.function.Supplier;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.hosting.ErrorPage;
import dev.portico.outofprocess.backend.RetryPolicy;

/**
 * The state of one forwarded request, from the valve to the end of its async cycle (Undertow's
 * per-exchange attachments, typed): where it goes, its attempts and which backend serves the
 * current one, its body reader and response streamer, and the {@link ClientGate} through which
 * every other thread reaches the client's request and response.
 */
final class Exchange {

    static final String ATTRIBUTE = Exchange.class.getName();
    private static final Log log = LogFactory.getLog(Exchange.class);
    private static final StringManager sm = StringManager.getManager(Exchange.class);

    private final ClientConnection client;
    private final String appName;
    private final ForwardedTarget target;
    private final ClientGate gate;
    private final Attempts attempts = new Attempts();
    // Set on container threads, read by Jetty threads.
    private volatile RequestBodyReader bodyReader;
    private volatile ResponseStreamer streamer;

    Exchange(ClientConnection client, String appName, ForwardedTarget target) {
        this.client = client;
        this.appName = appName;
        this.target = target;
        this.gate = new ClientGate(this, client);
    }

    /** The exchange of a request entering an out-of-process app (created on its first pass only). */
    static Exchange begin(Request request, Response response, String appName, String contextPath) {
        Exchange exchange = of(request);
        if (exchange == null) {
            exchange = new Exchange(new TomcatClientConnection(request, response), appName,
                    ForwardedTarget.of(request, contextPath));
            request.setAttribute(ATTRIBUTE, exchange);
        }
        return exchange;
    }

    static Exchange of(jakarta.servlet.ServletRequest request) {
        return (Exchange) request.getAttribute(ATTRIBUTE);
    }

    /** Path and query for the backend: the path the front routed, never the client's raw spelling. */
    String target() {
        return target.target();
    }

    /** True when the request names Portico's reserved path below the app ({@code /.portico/}). */
    boolean reserved() {
        return target.reserved();
    }

    HttpServletRequest request() {
        return client.request();
    }

    /** The user Tomcat authenticated as Tomcat holds it (a Realm's GenericPrincipal), or null. */
    java.security.Principal authenticatedPrincipal() {
        return client.authenticatedPrincipal();
    }

    // ---------------------------------------------------------------- attempts

    String appName() {
        return appName;
    }

    /** The gate to the client's request and response. */
    ClientGate gate() {
        return gate;
    }

    Attempts attempts() {
        return attempts;
    }

    /** The attempt that just failed, as {@link RetryPolicy} weighs it. */
    RetryPolicy.Attempt failedAttempt(RetryPolicy.Failure failure, boolean answerStarted, boolean backendAlive) {
        return attempts.failed(client.request().getMethod(), bodyReader != null, failure, answerStarted, backendAlive);
    }

    /**
     * Counts the retry, counts the request out of the backend that failed, and forgets that
     * backend: the next one is chosen afresh, avoiding it if another is ready.
     */
    void retrying(boolean refused) {
        gate.countOut();
        attempts.retried(refused);
    }

    RequestBodyReader bodyReader() {
        return bodyReader;
    }

    void bodyReader(RequestBodyReader reader) {
        this.bodyReader = reader;
    }

    ResponseStreamer streamer() {
        return streamer;
    }

    void streamer(ResponseStreamer streamer) {
        this.streamer = streamer;
    }
}
