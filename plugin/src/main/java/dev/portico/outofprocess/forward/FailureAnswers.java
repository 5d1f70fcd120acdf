package dev.portico.outofprocess.forward;

import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;
import org.eclipse.jetty.client.HttpResponseException;

import dev.portico.config.AppConfig;
import dev.portico.hosting.ErrorPage;
import dev.portico.hosting.StartFailure;
import dev.portico.outofprocess.backend.Backend;
import dev.portico.outofprocess.backend.Backends;
import dev.portico.outofprocess.backend.RetryPolicy;

/**
 * What the client of one app gets when something fails on the forwarding path — the table
 * "What a client sees when a backend fails" of docs/operations.md: a retry on the next process
 * when {@link RetryPolicy} allows it, else Portico's page (502.3, 504, 502.5, 503.2, 400), and a
 * closed connection when the answer was already under way. Every page is honest about the
 * connection: {@code Connection: close} when the request's body was not read to its end.
 */
final class FailureAnswers {

    private static final Log log = LogFactory.getLog(FailureAnswers.class);
    private static final StringManager sm = StringManager.getManager(FailureAnswers.class);

    private final String appName;
    private final AppConfig config;
    private final Backends backends;

    FailureAnswers(String appName, AppConfig config, Backends backends) {
        this.appName = appName;
        this.config = config;
        this.backends = backends;
    }

    /** The attempt failed at the gateway (Jetty's response failed): sent again, or answered. */
    void backendFailed(Exchange exchange, Throwable failure) {
        ClientGate gate = exchange.gate();
        if (gate.isEnded()) {
            // the client left (its exchange aborted this one) or has been answered: nobody to tell
            return;
        }
        if (log.isDebugEnabled()) {
            log.debug(sm.getString("forward.failed", appName, exchange.target()), failure);
        }
        if (gate.clientFailed()) {
            // the backend response was aborted because the client could not be written to: it left
            gate.complete((request, response) -> gate.closeConnection());
            return;
        }
        backends.failed(exchange.attempts().backend());
        if (retryOnNextProcess(exchange, failure)) {
            return;
        }
        boolean timeout = failure instanceof TimeoutException;
        String reason = reason(exchange.attempts().backend(), failure, timeout);
        gate.complete((request, response) -> {
            if (response.isCommitted()) {
                log.warn(sm.getString("forward.cut", reason, request.getMethod() + " " + exchange.target()));
                gate.closeConnection();
                return;
            }
            log.warn(reason + " [" + request.getMethod() + " " + exchange.target() + "]");
            response.reset();
            closeIfBodyUnread(exchange, request, response);
            ErrorPage.gatewayFailure(timeout, reason).send(response);
        });
    }

    /**
     * Sends the request again when {@link RetryPolicy} says so: a backend that died — or is
     * dying — between a crash and the pool hearing of it refuses the connection, or closes a
     * pooled one before answering, or dies while answering; a live one may close an idle
     * keep-alive connection just as the request goes out on it. Whether the answer has started
     * is read, and what the failed answer set is cleared, under the exchange's gate.
     */
    private boolean retryOnNextProcess(Exchange exchange, Throwable failure) {
        RetryPolicy.Failure kind = kindOf(failure);
        Backend backend = exchange.attempts().backend();
        boolean alive = backend.isAlive();
        Duration wait = exchange.gate().ifOpen((request, response) -> {
            boolean answerStarted = response.isCommitted() || !request.isAsyncStarted();
            Duration grace = RetryPolicy.retryAfter(exchange.failedAttempt(kind, answerStarted, alive));
            if (grace != null) {
                // what the failed answer set (status, headers, held content) goes; the next one starts afresh
                response.reset();
            }
            return grace;
        }, null);
        if (wait == null) {
            // not sent again; or the client already left, and then nothing more is owed to anyone
            return exchange.gate().isEnded();
        }
        exchange.retrying(kind == RetryPolicy.Failure.REFUSED);
        backends.retryAfter(backend, wait).whenComplete((ignored, error) -> exchange.gate().dispatch());
        return true;
    }

    private static RetryPolicy.Failure kindOf(Throwable failure) {
        if (failure instanceof ConnectException) {
            return RetryPolicy.Failure.REFUSED;
        }
        if (failure instanceof TimeoutException) {
            return RetryPolicy.Failure.TIMED_OUT;
        }
        return failure instanceof HttpResponseException ? RetryPolicy.Failure.MALFORMED : RetryPolicy.Failure.BROKEN;
    }

    /** The log line and page text of a gateway failure. */
    String reason(Backend backend, Throwable failure, boolean timeout) {
        return timeout
                ? sm.getString("forward.timeout", appName, backend, String.valueOf(config.requestTimeout().toSeconds()))
                : sm.getString("forward.broken", appName, backend, describe(failure));
    }

    /** A malformed or cut request body: the backend request is aborted (by the failed content) and the client told 400. */
    void clientBodyFailed(Exchange exchange, Throwable failure) {
        if (log.isDebugEnabled()) {
            log.debug(sm.getString("forward.clientBody", appName, exchange.target()), failure);
        }
        ClientGate gate = exchange.gate();
        gate.complete((request, response) -> {
            // Tomcat's sendError(400) for the broken body suspended the response, which then looks committed
            gate.unsuspend();
            if (response.isCommitted()) {
                gate.closeConnection();
                return;
            }
            response.reset();
            response.setHeader("Connection", "close");
            // written and closed here: Tomcat closes the connection as soon as this read's failure unwinds
            ErrorPage.badRequest(sm.getString("forward.clientBodyPage")).send(response);
        }, true);
    }

    /** No process could be had for the request: 502.5, with the output tail unless disableStartUpErrorPage. */
    void startFailed(Exchange exchange, HttpServletRequest request, HttpServletResponse response, StartFailure failure)
            throws IOException {
        closeIfBodyUnread(exchange, request, response);
        ErrorPage.processFailure(appName, failure, !config.disableStartUpErrorPage()).send(response);
    }

    /** maxQueuedRequests wait already: 503.2 at once. */
    void saturated(Exchange exchange, HttpServletRequest request, HttpServletResponse response, String reason)
            throws IOException {
        closeIfBodyUnread(exchange, request, response);
        ErrorPage.saturated(reason).send(response);
    }

    /** Portico's own path below the app (the shutdown message) is never a client's to reach: 404. */
    void reserved(Exchange exchange, HttpServletRequest request, HttpServletResponse response) throws IOException {
        closeIfBodyUnread(exchange, request, response);
        response.sendError(HttpServletResponse.SC_NOT_FOUND);
    }

    /**
     * An answer given before the request's body was read to its end says so (an honest
     * {@code Connection: close}) rather than leaving the client to find a closed socket: Tomcat
     * would skip what is left only up to {@code maxSwallowSize}, and a chunked body has no length
     * to judge by. Before the body is forwarded (no reader yet), any body is unread.
     */
    static void closeIfBodyUnread(Exchange exchange, HttpServletRequest request, HttpServletResponse response) {
        RequestBodyReader reader = exchange == null ? null : exchange.bodyReader();
        if (reader != null ? !reader.isComplete() : hasBody(request)) {
            response.setHeader("Connection", "close");
        }
    }

    /** A body declared by a length above 0 or by Transfer-Encoding (Jetty's proxy asks the same). */
    static boolean hasBody(HttpServletRequest request) {
        long length = request.getContentLengthLong();
        return length > 0 || length != 0 && request.getHeader("Transfer-Encoding") != null;
    }

    /** One short line: Jetty's messages can carry a whole dump of the connection's state. */
    static String describe(Throwable failure) {
        String type = failure.getClass().getSimpleName();
        if (failure instanceof EOFException) {
            return type + ": the backend closed the connection";
        }
        String message = failure.getMessage();
        if (message == null) {
            return type;
        }
        message = message.toLowerCase(Locale.ROOT);
        return type + ": " + (message.length() > 120 ? message.substring(0, 120) + "…" : message);
    }
}
