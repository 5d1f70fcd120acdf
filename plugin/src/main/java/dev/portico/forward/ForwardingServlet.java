package dev.portico.forward;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.time.Duration;
import java.util.Enumeration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.catalina.connector.Response;
import org.apache.coyote.ActionCode;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.ee11.proxy.AsyncProxyServlet;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.util.Callback;

import dev.portico.config.AppConfig;
import dev.portico.hosting.StatusPage;
import dev.portico.process.BackendProcess;
import dev.portico.process.ProcessSupervisor;
import dev.portico.process.StartFailure;

/**
 * Forwards the requests of one out-of-process app to its backend process, without holding a
 * thread while waiting: the wait for a starting process is an async cycle, bodies are read with
 * a ReadListener and written with a {@link ResponseStreamer} that flushes every chunk (a small
 * body that arrives whole goes straight into the response buffer).
 * What Jetty's ProxyServlet does differently by default, and why this class changes it:
 * forwarding headers are set, never appended (a client must not choose its own address); the
 * total-request timeout is off and requestTimeout is an idle timeout (ANCM's meaning); failures
 * answer with Portico's pages; a failure after the response is committed closes the connection
 * so that the client never takes a truncated body for a whole one.
 */
public final class ForwardingServlet extends AsyncProxyServlet {

    private static final long serialVersionUID = 1L;
    private static final Log log = LogFactory.getLog(ForwardingServlet.class);
    private static final StringManager sm = StringManager.getManager(ForwardingServlet.class);

    /** Request attribute under which the front's Catalina response travels (to close a broken connection). */
    public static final String CATALINA_RESPONSE = "dev.portico.catalinaResponse";
    private static final String BACKEND = ForwardingServlet.class.getName() + ".backend";
    private static final String START_FAILURE = ForwardingServlet.class.getName() + ".startFailure";
    private static final String STREAMER = ForwardingServlet.class.getName() + ".streamer";
    private static final String RETRIED = ForwardingServlet.class.getName() + ".retried";
    private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");
    /** How long a request that met a closed port waits for the dying process to be gone. */
    private static final Duration EXIT_GRACE = Duration.ofSeconds(2);

    private final transient ProcessSupervisor supervisor;
    private final transient BackendClient client;
    private final transient AppConfig config;
    private final String appName;
    private final String contextPath;

    public ForwardingServlet(String appName, String contextPath, ProcessSupervisor supervisor, BackendClient client) {
        this.appName = appName;
        this.contextPath = contextPath;
        this.supervisor = supervisor;
        this.client = client;
        this.config = supervisor.config();
    }

    @Override
    protected HttpClient createHttpClient() {
        return client.httpClient();
    }

    @Override
    public void destroy() {
        // the client is shared by every app of the Host and stopped by the valve
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws ServletException, IOException {
        StartFailure failure = (StartFailure) request.getAttribute(START_FAILURE);
        if (failure != null) {
            startFailurePage(failure).send(response);
            return;
        }
        boolean upgrade = UpgradeForwarder.isUpgrade(request);
        BackendProcess backend = (BackendProcess) request.getAttribute(BACKEND);
        if (backend == null) {
            CompletableFuture<BackendProcess> ready = supervisor.acquire();
            if (!ready.isDone() && !upgrade) {
                awaitStart(request, ready);
                return;
            }
            try {
                // an upgrade must call request.upgrade() before service() returns, so it cannot park
                backend = ready.get(config.startupTimeLimit().toMillis() + 1000, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                startFailurePage((StartFailure) e.getCause()).send(response);
                return;
            } catch (TimeoutException e) {
                startFailurePage(new StartFailure(String.valueOf(e), "", null)).send(response);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                startFailurePage(new StartFailure(String.valueOf(e), "", null)).send(response);
                return;
            }
            request.setAttribute(BACKEND, backend);
        }
        if (upgrade) {
            forwardUpgrade(request, response, backend);
            return;
        }
        supervisor.requestStarted();
        try {
            super.service(request, response);
        } catch (IOException | ServletException | RuntimeException | Error e) {
            supervisor.requestEnded();
            throw e;
        }
    }

    /** WebSocket and other protocol switches, which Jetty's ProxyServlet cannot forward. */
    private void forwardUpgrade(HttpServletRequest request, HttpServletResponse response, BackendProcess backend)
            throws IOException, ServletException {
        supervisor.requestStarted();
        try {
            UpgradeForwarder.forward(request, response, backend.port(),
                    ForwardedHeaders.values(request, backend.token(), contextPath, config.forwardPrincipal()),
                    config.requestTimeout());
        } catch (IOException e) {
            boolean timeout = e instanceof UpgradeForwarder.BackendTimeoutException;
            String reason = timeout
                    ? sm.getString("forward.timeout", appName, backend, String.valueOf(config.requestTimeout().toSeconds()))
                    : sm.getString("forward.broken", appName, backend, describe(e));
            log.warn(reason + " [upgrade " + request.getRequestURI() + "]");
            if (response.isCommitted()) {
                throw e;
            }
            response.reset();
            StatusPage.gatewayFailure(timeout, reason).send(response);
        } finally {
            supervisor.requestEnded();
        }
    }

    /** Parks the request (no thread held) until the process listens, then dispatches it again. */
    private static void awaitStart(HttpServletRequest request, CompletableFuture<BackendProcess> ready) {
        AsyncContext async = request.startAsync();
        async.setTimeout(0);
        ready.whenComplete((backend, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
                request.setAttribute(START_FAILURE, cause instanceof StartFailure start ? start
                        : new StartFailure(String.valueOf(cause), "", null));
            } else {
                request.setAttribute(BACKEND, backend);
            }
            async.dispatch();
        });
    }

    private StatusPage startFailurePage(StartFailure failure) {
        return StatusPage.processFailure(appName, failure, !config.disableStartUpErrorPage());
    }

    /**
     * The backend's origin and Host header, built once per backend port: Jetty would otherwise
     * parse an absolute URI string per request, and build and parse it again for the Host header.
     */
    private record Origin(int port, URI uri, HttpField host) {
        Origin(int port) {
            this(port, URI.create("http://127.0.0.1:" + port + "/"), new HttpField(HttpHeader.HOST, "127.0.0.1:" + port));
        }
    }

    private transient volatile Origin origin;

    private Origin origin(int port) {
        Origin known = origin;
        if (known == null || known.port() != port) {
            known = new Origin(port);
            origin = known;
        }
        return known;
    }

    /** The target relative to the backend's origin ({@link #newProxyRequest}): the client's raw path and query. */
    @Override
    protected String rewriteTarget(HttpServletRequest request) {
        String uri = request.getRequestURI();
        String query = request.getQueryString();
        return query == null ? uri : uri + '?' + query;
    }

    @Override
    protected Request newProxyRequest(HttpServletRequest request, String target) {
        BackendProcess backend = (BackendProcess) request.getAttribute(BACKEND);
        Origin to = origin(backend.port());
        // "//x" alone would parse as an authority: such a target goes the long way
        Request forwarded = target.startsWith("//")
                ? getHttpClient().newRequest(to.uri().toString() + target.substring(1))
                : getHttpClient().newRequest(to.uri()).path(target);
        return forwarded
                .method(request.getMethod())
                .attribute(CLIENT_REQUEST_ATTRIBUTE, request)
                .idleTimeout(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * One pass over the client's headers: drops Host (the backend's is its loopback address;
     * X-Forwarded-Host carries the client's), hop-by-hop headers, headers named by Connection, and
     * every header Portico owns ({@link ForwardedHeaders#isManaged}), then copies the rest as sent.
     */
    @Override
    protected void copyRequestHeaders(HttpServletRequest clientRequest, Request proxyRequest) {
        Set<String> connectionHeaders = clientRequest.getHeader("Connection") != null
                ? findConnectionHeaders(clientRequest) : null;
        HttpField host = origin(((BackendProcess) clientRequest.getAttribute(BACKEND)).port()).host();
        proxyRequest.headers(headers -> {
            headers.clear();
            // the backend's own Host, set here: without one Jetty builds and parses the request's whole URI to derive it
            headers.put(host);
            for (Enumeration<String> names = clientRequest.getHeaderNames(); names.hasMoreElements(); ) {
                String name = names.nextElement();
                String lower = name.toLowerCase(Locale.ROOT);
                if (lower.equals("host") || HOP_HEADERS.contains(lower) || ForwardedHeaders.isManagedLowerCase(lower)
                        || (connectionHeaders != null && connectionHeaders.contains(lower))) {
                    continue;
                }
                for (Enumeration<String> values = clientRequest.getHeaders(name); values.hasMoreElements(); ) {
                    String value = values.nextElement();
                    if (value != null) {
                        headers.add(name, value);
                    }
                }
            }
        });
    }

    @Override
    protected void addProxyHeaders(HttpServletRequest clientRequest, Request proxyRequest) {
        BackendProcess backend = (BackendProcess) clientRequest.getAttribute(BACKEND);
        ForwardedHeaders.set(clientRequest, proxyRequest, backend.token(), contextPath, config.forwardPrincipal());
    }

    @Override
    protected void onResponseContent(HttpServletRequest request, HttpServletResponse response,
            org.eclipse.jetty.client.Response backendResponse, byte[] buffer, int offset, int length, Callback callback) {
        try {
            ResponseStreamer streamer = (ResponseStreamer) request.getAttribute(STREAMER);
            if (streamer == null && length <= response.getBufferSize()
                    && length == ResponseStreamer.declaredLength(backendResponse)) {
                // The whole body, in one chunk that fits Tomcat's response buffer: a write that
                // only copies into the buffer (no socket I/O, so it cannot block), sent when the
                // exchange completes. No write listener, hence no dispatch to a container thread
                // just to copy a few bytes: the common case of small responses.
                response.getOutputStream().write(buffer, offset, length);
                callback.succeeded();
                return;
            }
            if (streamer == null) {
                streamer = new ResponseStreamer(response.getOutputStream(), backendResponse);
                request.setAttribute(STREAMER, streamer);
                // offer before registering: setWriteListener may call onWritePossible on another thread
                streamer.offer(buffer, offset, length, callback);
                response.getOutputStream().setWriteListener(streamer);
            } else {
                streamer.offer(buffer, offset, length, callback);
                streamer.onWritePossible();
            }
        } catch (Throwable x) {
            callback.failed(x);
            backendResponse.abort(x);
        }
    }

    @Override
    protected void onProxyResponseSuccess(HttpServletRequest clientRequest, HttpServletResponse proxyResponse,
            org.eclipse.jetty.client.Response serverResponse) {
        supervisor.requestEnded();
        super.onProxyResponseSuccess(clientRequest, proxyResponse, serverResponse);
    }

    @Override
    protected void onProxyResponseFailure(HttpServletRequest clientRequest, HttpServletResponse proxyResponse,
            org.eclipse.jetty.client.Response serverResponse, Throwable failure) {
        supervisor.requestEnded();
        if (log.isDebugEnabled()) {
            log.debug(sm.getString("forward.failed", appName, clientRequest.getRequestURI()), failure);
        }
        try {
            proxyResponse.isCommitted();
        } catch (IllegalStateException recycled) {
            // the client's exchange already ended (the client went away and Tomcat recycled it): nobody to answer
            return;
        }
        if (retryOnNextProcess(clientRequest, proxyResponse, serverResponse, failure)) {
            return;
        }
        if (!proxyResponse.isCommitted()) {
            BackendProcess backend = (BackendProcess) clientRequest.getAttribute(BACKEND);
            boolean timeout = failure instanceof TimeoutException;
            String reason = timeout
                    ? sm.getString("forward.timeout", appName, backend, String.valueOf(config.requestTimeout().toSeconds()))
                    : sm.getString("forward.broken", appName, backend, describe(failure));
            log.warn(reason + " [" + clientRequest.getMethod() + " " + clientRequest.getRequestURI() + "]");
            try {
                proxyResponse.reset();
                StatusPage.gatewayFailure(timeout, reason).send(proxyResponse);
            } catch (IOException | IllegalStateException e) {
                closeNow(clientRequest);
            }
        } else {
            closeNow(clientRequest);
        }
        if (clientRequest.isAsyncStarted()) {
            clientRequest.getAsyncContext().complete();
        }
    }

    /**
     * A backend that died — or is dying — between a crash and the supervisor hearing of it
     * refuses the connection, or closes a pooled one before answering. Such a request is sent
     * again, once, to the next process instead of being answered 502, when that is safe: it has
     * no body (part of one may already have been read from the client), nothing of a response
     * arrived, and either the backend never saw it (connection refused) or its method is
     * idempotent (RFC 9110, 9.2.2), so a backend that did see it is none the worse.
     */
    private boolean retryOnNextProcess(HttpServletRequest request, HttpServletResponse response,
            org.eclipse.jetty.client.Response serverResponse, Throwable failure) {
        boolean neverSeen = failure instanceof ConnectException;
        boolean nothingReceived = serverResponse == null || serverResponse.getStatus() <= 0;
        if (!(neverSeen || IDEMPOTENT.contains(request.getMethod())) || !nothingReceived || response.isCommitted()
                || hasContent(request) || request.getAttribute(RETRIED) != null || !request.isAsyncStarted()
                || failure instanceof TimeoutException) {
            return false;
        }
        BackendProcess backend = (BackendProcess) request.getAttribute(BACKEND);
        request.setAttribute(RETRIED, Boolean.TRUE);
        request.removeAttribute(BACKEND);
        AsyncContext async = request.getAsyncContext();
        supervisor.awaitExit(backend, EXIT_GRACE).whenComplete((ignored, error) -> async.dispatch());
        return true;
    }

    /** One short line: Jetty's messages can carry a whole dump of the connection's state. */
    private static String describe(Throwable failure) {
        String type = failure.getClass().getSimpleName();
        if (failure instanceof java.io.EOFException) {
            return type + ": the backend closed the connection";
        }
        String message = failure.getMessage();
        if (message == null) {
            return type;
        }
        message = message.toLowerCase(Locale.ROOT);
        return type + ": " + (message.length() > 120 ? message.substring(0, 120) + "…" : message);
    }

    /** The response is committed: cut the connection so the client sees an error, not a short body. */
    private static void closeNow(HttpServletRequest request) {
        Object response = request.getAttribute(CATALINA_RESPONSE);
        if (response instanceof Response catalinaResponse) {
            catalinaResponse.getCoyoteResponse().action(ActionCode.CLOSE_NOW, null);
        }
    }
}
