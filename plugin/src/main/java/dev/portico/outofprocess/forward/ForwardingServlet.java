package dev.portico.outofprocess.forward;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.nio.ByteBuffer;
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
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;
import org.eclipse.jetty.client.AsyncRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.HttpResponseException;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.ee11.proxy.AsyncProxyServlet;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;

import dev.portico.config.AppConfig;
import dev.portico.hosting.ErrorPage;
import dev.portico.hosting.TomcatInternals;
import dev.portico.outofprocess.backend.Backend;
import dev.portico.outofprocess.backend.Backends;
import dev.portico.outofprocess.backend.PoolSaturated;
import dev.portico.outofprocess.backend.RetryPolicy;
import dev.portico.hosting.StartFailure;

/**
 * Forwards the requests of one out-of-process app to its backend process, without holding a
 * thread while waiting: the wait for a starting process is an async cycle, bodies are read by a
 * {@link RequestBodyReader} and written by a {@link ResponseStreamer} that flushes every chunk.
 * Each request's state is one {@link Exchange}, created by the valve's pass, whose gate every
 * Jetty thread goes through to reach the client's request and response.
 * What Jetty's ProxyServlet does differently by default, and why this class changes it:
 * the path forwarded is the one the front routed ({@link ForwardedTarget}); forwarding headers
 * are set, never appended (a client must not choose its own address); the total-request timeout
 * is off and requestTimeout is an idle timeout (ANCM's meaning); failures answer with Portico's
 * pages, and say {@code Connection: close} when the client's body was not read to its end; a
 * failure after the response is committed closes the connection so that the client never takes
 * a truncated body for a whole one; a client that leaves aborts the backend request.
 */
public final class ForwardingServlet extends AsyncProxyServlet {

    private static final long serialVersionUID = 1L;
    private static final Log log = LogFactory.getLog(ForwardingServlet.class);
    private static final StringManager sm = StringManager.getManager(ForwardingServlet.class);


    /** The cookie that leads a client back to the process that served it (stickySessions). */
    static final String ROUTE_COOKIE = "PORTICO_ROUTE";

    private final transient Backends backends;
    private final transient BackendClient client;
    private final transient AppConfig config;
    private final String appName;
    private final String contextPath;

    public ForwardingServlet(String appName, String contextPath, AppConfig config, Backends backends, BackendClient client) {
        this.appName = appName;
        this.contextPath = contextPath;
        this.config = config;
        this.backends = backends;
        this.client = client;
    }

    /** Called by the valve's pass for every request entering the app, before it is dispatched into the app's Context. */
    public void enter(org.apache.catalina.connector.Request request, org.apache.catalina.connector.Response response) {
        Exchange.begin(request, response, appName, contextPath);
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
        Exchange exchange = Exchange.of(request);
        if (exchange == null || exchange.reserved()) {
            // Portico's own path below the app (the shutdown message) is never a client's to reach
            closeIfBodyUnread(exchange, request, response);
            response.sendError(HttpServletResponse.SC_NOT_FOUND);
            return;
        }
        if (exchange.startFailure() != null) {
            sendStartFailure(exchange, request, response, exchange.startFailure());
            return;
        }
        boolean upgrade = UpgradeForwarder.isUpgrade(request);
        if (exchange.backend() == null) {
            String route = config.pool().stickySessions() ? route(request) : null;
            CompletableFuture<Backend> ready = backends.acquire(route, exchange.failedBackend());
            if (!ready.isDone() && !upgrade) {
                awaitStart(request, exchange, ready);
                return;
            }
            try {
                // an upgrade must call request.upgrade() before service() returns, so it cannot park
                exchange.backend(ready.get(config.startupTimeLimit().toMillis() + 1000, TimeUnit.MILLISECONDS));
            } catch (ExecutionException e) {
                if (e.getCause() instanceof PoolSaturated saturated) {
                    closeIfBodyUnread(exchange, request, response);
                    ErrorPage.saturated(saturated.getMessage()).send(response);
                    return;
                }
                sendStartFailure(exchange, request, response, (StartFailure) e.getCause());
                return;
            } catch (TimeoutException e) {
                sendStartFailure(exchange, request, response, new StartFailure(String.valueOf(e), "", null));
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                sendStartFailure(exchange, request, response, new StartFailure(String.valueOf(e), "", null));
                return;
            }
        }
        if (config.pool().stickySessions()) {
            stick(request, response, exchange.backend());
        }
        if (upgrade) {
            forwardUpgrade(request, response, exchange);
            return;
        }
        super.service(request, response);
    }

    private static String route(HttpServletRequest request) {
        Cookie[] cookies = request.getCookies();
        if (cookies != null) {
            for (Cookie cookie : cookies) {
                if (ROUTE_COOKIE.equals(cookie.getName())) {
                    return cookie.getValue();
                }
            }
        }
        return null;
    }

    /** Tells a client without a route, or with the route of a process that is gone, which process is its own. */
    private void stick(HttpServletRequest request, HttpServletResponse response, Backend backend) {
        if (!backend.route().equals(route(request))) {
            Cookie cookie = new Cookie(ROUTE_COOKIE, backend.route());
            cookie.setPath(contextPath.isEmpty() ? "/" : contextPath);
            cookie.setHttpOnly(true);
            cookie.setSecure(request.isSecure());
            response.addCookie(cookie);
        }
    }

    /** WebSocket and other protocol switches, which Jetty's ProxyServlet cannot forward. */
    private void forwardUpgrade(HttpServletRequest request, HttpServletResponse response, Exchange exchange)
            throws IOException, ServletException {
        Backend backend = exchange.backend();
        backends.attemptStarted(backend);
        boolean upgraded = false;
        try {
            // an upgraded connection stays in flight until its tunnel closes: idleTimeout and drains must see it
            upgraded = UpgradeForwarder.forward(request, response, client, backend.address(), exchange.target(),
                    ForwardedHeaders.values(request, config, contextPath, backend.address(), backend.token()),
                    config.requestTimeout(), () -> backends.attemptEnded(backend));
        } catch (IOException e) {
            boolean timeout = e instanceof UpgradeForwarder.BackendTimeoutException;
            String reason = timeout
                    ? sm.getString("forward.timeout", appName, backend, String.valueOf(config.requestTimeout().toSeconds()))
                    : sm.getString("forward.broken", appName, backend, describe(e));
            log.warn(reason + " [upgrade " + exchange.target() + "]");
            backends.failed(backend);
            if (response.isCommitted()) {
                throw e;
            }
            response.reset();
            ErrorPage.gatewayFailure(timeout, reason).send(response);
        } finally {
            if (!upgraded) {
                backends.attemptEnded(backend);
            }
        }
    }

    /** Parks the request (no thread held) until the process listens, then dispatches it again. */
    private static void awaitStart(HttpServletRequest request, Exchange exchange, CompletableFuture<Backend> ready) {
        AsyncContext async = request.startAsync();
        async.setTimeout(TomcatInternals.NO_ASYNC_TIMEOUT);
        exchange.join(async);
        ready.whenComplete((backend, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
                exchange.startFailure(cause instanceof StartFailure start ? start
                        : new StartFailure(String.valueOf(cause), "", null));
            } else {
                exchange.backend(backend);
            }
            // a client that left meanwhile has ended the exchange: nothing to dispatch
            exchange.dispatch();
        });
    }

    private void sendStartFailure(Exchange exchange, HttpServletRequest request, HttpServletResponse response,
            StartFailure failure) throws IOException {
        closeIfBodyUnread(exchange, request, response);
        ErrorPage.processFailure(appName, failure, !config.disableStartUpErrorPage()).send(response);
    }

    /**
     * An answer given before the request's body was read to its end says so (an honest
     * {@code Connection: close}) rather than leaving the client to find a closed socket: Tomcat
     * would skip what is left only up to {@code maxSwallowSize}, and a chunked body has no length
     * to judge by. Before the body is forwarded (no reader yet), any body is unread.
     */
    private void closeIfBodyUnread(Exchange exchange, HttpServletRequest request, HttpServletResponse response) {
        RequestBodyReader reader = exchange == null ? null : exchange.bodyReader();
        if (reader != null ? !reader.isComplete() : hasContent(request)) {
            response.setHeader("Connection", "close");
        }
    }

    /** The last backend's target, built once per backend: Jetty would otherwise parse an absolute URI string per request. */
    private transient volatile BackendClient.Target origin;

    private BackendClient.Target origin(Backend backend) {
        BackendClient.Target known = origin;
        if (known == null || !known.address().equals(backend.address())) {
            known = BackendClient.Target.of(backend.address());
            origin = known;
        }
        return known;
    }

    @Override
    protected String rewriteTarget(HttpServletRequest request) {
        return Exchange.of(request).target();
    }

    @Override
    protected Request newProxyRequest(HttpServletRequest request, String target) {
        return client.newRequest(origin(Exchange.of(request).backend())).path(target)
                .method(request.getMethod())
                .attribute(CLIENT_REQUEST_ATTRIBUTE, request)
                .idleTimeout(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * One pass over the client's headers: drops Host (set with Portico's own headers, from the
     * authority the front resolved: {@link ForwardedHeaders#values}), hop-by-hop headers, headers named by Connection,
     * Expect (the front has answered it), Proxy (CGI-style backends take it for their own
     * outgoing proxy: "httpoxy"), and every header Portico owns
     * ({@link ForwardedHeaders#isManaged}), then copies the rest as sent.
     */
    @Override
    protected void copyRequestHeaders(HttpServletRequest clientRequest, Request proxyRequest) {
        Set<String> connectionHeaders = clientRequest.getHeader("Connection") != null
                ? findConnectionHeaders(clientRequest) : null;
        proxyRequest.headers(headers -> {
            headers.clear();
            for (Enumeration<String> names = clientRequest.getHeaderNames(); names.hasMoreElements(); ) {
                String name = names.nextElement();
                String lower = name.toLowerCase(Locale.ROOT);
                if (lower.equals("host") || lower.equals("expect") || lower.equals("proxy") || HOP_HEADERS.contains(lower)
                        || ForwardedHeaders.isManagedLowerCase(lower)
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
        Backend backend = Exchange.of(clientRequest).backend();
        ForwardedHeaders.set(clientRequest, proxyRequest, config, contextPath, backend.address(), backend.token());
    }

    /** Tomcat has already answered {@code Expect: 100-continue} (or will on the first read): the body is read as any other. */
    @Override
    protected boolean expects100Continue(HttpServletRequest request) {
        return false;
    }

    /** Runs on the container thread, in service(): the read listener is registered where that cannot take Tomcat's connection lock. */
    @Override
    protected Request.Content proxyRequestContent(HttpServletRequest request, HttpServletResponse response, Request proxyRequest)
            throws IOException {
        Exchange exchange = Exchange.of(request);
        AsyncRequestContent content = new AsyncRequestContent();
        RequestBodyReader reader = new RequestBodyReader(request.getInputStream(), content,
                failure -> clientBodyFailed(exchange, failure), exchange::completeDeferred, exchange::onTomcatThread);
        exchange.bodyReader(reader);
        request.getInputStream().setReadListener(reader);
        return content;
    }

    /**
     * The last step of service(), on the container thread once the async cycle has started: the
     * exchange joins the cycle, the response gets its write listener (in every cycle: Tomcat
     * clears non-blocking listeners at a dispatch, so a retry registers a new one), and the
     * backend request goes out.
     */
    @Override
    protected void sendProxyRequest(HttpServletRequest request, HttpServletResponse response, Request proxyRequest) {
        Exchange exchange = Exchange.of(request);
        AsyncContext async = request.getAsyncContext();
        // Jetty's service() set 0, which Tomcat's sweep takes for "until the app stops" (TomcatInternals)
        async.setTimeout(TomcatInternals.NO_ASYNC_TIMEOUT);
        exchange.join(async);
        Backend backend = exchange.backend();
        exchange.countInFlight(() -> backends.attemptStarted(backend), () -> backends.attemptEnded(backend));
        try {
            ServletOutputStream output = response.getOutputStream();
            ResponseStreamer streamer = new ResponseStreamer(exchange, output);
            exchange.streamer(streamer);
            output.setWriteListener(streamer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        exchange.backendRequest(proxyRequest);
        super.sendProxyRequest(request, response, proxyRequest);
    }

    @Override
    protected Response.Listener newProxyResponseListener(HttpServletRequest request, HttpServletResponse response) {
        return new BackendResponseListener(Exchange.of(request));
    }

    /** Jetty's events of the backend response, each handed to the client through the exchange's gate. */
    private final class BackendResponseListener implements Response.Listener {

        private final Exchange exchange;

        BackendResponseListener(Exchange exchange) {
            this.exchange = exchange;
        }

        @Override
        public void onHeaders(Response backendResponse) {
            backends.answered(exchange.backend(), backendResponse.getStatus());
            boolean open;
            try {
                open = exchange.withClient((request, response) -> {
                    response.setStatus(backendResponse.getStatus());
                    onServerResponseHeaders(request, response, backendResponse);
                    exchange.streamer().begin(backendResponse, response, RetryPolicy.isIdempotent(request.getMethod()));
                });
            } catch (Exchange.ClientGone e) {
                open = false;
            }
            if (!open) {
                backendResponse.abort(new IOException("the client's exchange is over"));
            }
        }

        @Override
        public void onContent(Response backendResponse, Content.Chunk chunk, Runnable demander) {
            ByteBuffer content = chunk.getByteBuffer();
            int length = content.remaining();
            byte[] buffer;
            int offset;
            if (content.hasArray()) {
                buffer = content.array();
                offset = content.arrayOffset() + content.position();
            } else {
                buffer = new byte[length];
                content.get(buffer);
                offset = 0;
            }
            chunk.retain();
            Callback callback = Callback.from(chunk::release, Callback.from(demander, backendResponse::abort));
            exchange.streamer().offer(buffer, offset, length, callback);
        }

        @Override
        public void onComplete(Result result) {
            if (result.isSucceeded()) {
                exchange.complete((request, response) -> exchange.streamer().sendWhole());
            } else if (exchange.whileOpen((request, response) -> exchange.streamer().isWhole())) {
                // The backend answered in full without reading the whole body (a 413, an early
                // 401) and closed, which fails Jetty's exchange: its answer is the answer, and the
                // client's connection cannot carry on.
                exchange.complete((request, response) -> {
                    if (!response.isCommitted()) {
                        response.setHeader("Connection", "close");
                    }
                });
            } else {
                backendFailed(exchange, result.getFailure());
            }
        }
    }

    private void backendFailed(Exchange exchange, Throwable failure) {
        if (exchange.isEnded()) {
            // the client left (its exchange aborted this one) or has been answered: nobody to tell
            return;
        }
        if (log.isDebugEnabled()) {
            log.debug(sm.getString("forward.failed", appName, exchange.target()), failure);
        }
        if (exchange.clientFailed()) {
            // the backend response was aborted because the client could not be written to: it left
            exchange.complete((request, response) -> exchange.closeConnection());
            return;
        }
        backends.failed(exchange.backend());
        if (retryOnNextProcess(exchange, failure)) {
            return;
        }
        Backend backend = exchange.backend();
        boolean timeout = failure instanceof TimeoutException;
        String reason = timeout
                ? sm.getString("forward.timeout", appName, backend, String.valueOf(config.requestTimeout().toSeconds()))
                : sm.getString("forward.broken", appName, backend, describe(failure));
        exchange.complete((request, response) -> {
            if (response.isCommitted()) {
                log.warn(sm.getString("forward.cut", reason, request.getMethod() + " " + exchange.target()));
                exchange.closeConnection();
                return;
            }
            log.warn(reason + " [" + request.getMethod() + " " + exchange.target() + "]");
            response.reset();
            closeIfBodyUnread(exchange, request, response);
            ErrorPage.gatewayFailure(timeout, reason).send(response);
        });
    }

    /** A malformed or cut request body: the backend request is aborted (by the failed content) and the client told 400. */
    private void clientBodyFailed(Exchange exchange, Throwable failure) {
        if (log.isDebugEnabled()) {
            log.debug(sm.getString("forward.clientBody", appName, exchange.target()), failure);
        }
        exchange.complete((request, response) -> {
            // Tomcat's sendError(400) for the broken body suspended the response, which then looks committed
            exchange.unsuspend();
            if (response.isCommitted()) {
                exchange.closeConnection();
                return;
            }
            response.reset();
            response.setHeader("Connection", "close");
            // written and closed here: Tomcat closes the connection as soon as this read's failure unwinds
            ErrorPage.badRequest(sm.getString("forward.clientBodyPage")).send(response);
        }, true);
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
        Backend backend = exchange.backend();
        boolean alive = backend.isAlive();
        Duration wait = exchange.ifOpen((request, response) -> {
            boolean answerStarted = response.isCommitted() || !request.isAsyncStarted();
            Duration grace = RetryPolicy.retryAfter(exchange.attempt(kind, answerStarted, alive));
            if (grace != null) {
                // what the failed answer set (status, headers, held content) goes; the next one starts afresh
                response.reset();
            }
            return grace;
        }, null);
        if (wait == null) {
            // not sent again; or the client already left, and then nothing more is owed to anyone
            return exchange.isEnded();
        }
        exchange.retrying(kind == RetryPolicy.Failure.REFUSED);
        backends.retryAfter(backend, wait).whenComplete((ignored, error) -> exchange.dispatch());
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
}
