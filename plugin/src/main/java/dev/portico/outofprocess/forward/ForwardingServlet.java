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
import dev.portico.hosting.StartFailure;
import dev.portico.hosting.TomcatInternals;
import dev.portico.outofprocess.backend.Backend;
import dev.portico.outofprocess.backend.Backends;
import dev.portico.outofprocess.backend.PoolSaturated;
import dev.portico.outofprocess.backend.RetryPolicy;

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
    private final transient FailureAnswers failures;
    private final String appName;
    private final String contextPath;

    public ForwardingServlet(String appName, String contextPath, AppConfig config, Backends backends, BackendClient client) {
        this.appName = appName;
        this.contextPath = contextPath;
        this.config = config;
        this.backends = backends;
        this.failures = new FailureAnswers(appName, config, backends);
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
            failures.reserved(exchange, request, response);
            return;
        }
        if (exchange.attempts().startFailure() != null) {
            failures.startFailed(exchange, request, response, exchange.attempts().startFailure());
            return;
        }
        boolean upgrade = UpgradeForwarder.isUpgrade(request);
        if (exchange.attempts().backend() == null && !acquire(exchange, request, response, upgrade)) {
            return;
        }
        if (config.pool().stickySessions()) {
            stick(request, response, exchange.attempts().backend());
        }
        if (upgrade) {
            forwardUpgrade(request, response, exchange);
            return;
        }
        super.service(request, response);
    }

    /**
     * A backend for this attempt. @return false when there is none yet: the request waits for a
     * start (parked, no thread held), or has been answered why there will be none
     */
    private boolean acquire(Exchange exchange, HttpServletRequest request, HttpServletResponse response, boolean upgrade)
            throws IOException {
        String route = config.pool().stickySessions() ? route(request) : null;
        CompletableFuture<Backend> ready = backends.acquire(route, exchange.attempts().failedBackend());
        if (!ready.isDone() && !upgrade) {
            awaitStart(request, exchange, ready);
            return false;
        }
        try {
            // an upgrade must call request.upgrade() before service() returns, so it cannot park
            exchange.attempts().backend(ready.get(config.startupTimeLimit().toMillis() + 1000, TimeUnit.MILLISECONDS));
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof PoolSaturated saturated) {
                failures.saturated(exchange, request, response, saturated.getMessage());
            } else {
                failures.startFailed(exchange, request, response, (StartFailure) e.getCause());
            }
        } catch (TimeoutException e) {
            failures.startFailed(exchange, request, response, new StartFailure(String.valueOf(e), "", null));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failures.startFailed(exchange, request, response, new StartFailure(String.valueOf(e), "", null));
        }
        return false;
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
        Backend backend = exchange.attempts().backend();
        backends.attemptStarted(backend);
        boolean upgraded = false;
        try {
            // an upgraded connection stays in flight until its tunnel closes: idleTimeout and drains must see it
            upgraded = UpgradeForwarder.forward(request, response, client, backend.address(), exchange.target(),
                    ForwardedHeaders.values(request, config, contextPath, backend.address(), backend.token()),
                    config.requestTimeout(), () -> backends.attemptEnded(backend));
        } catch (IOException e) {
            boolean timeout = e instanceof UpgradeForwarder.BackendTimeoutException;
            String reason = failures.reason(backend, e, timeout);
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
        exchange.gate().join(async);
        ready.whenComplete((backend, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
                exchange.attempts().startFailure(cause instanceof StartFailure start ? start
                        : new StartFailure(String.valueOf(cause), "", null));
            } else {
                exchange.attempts().backend(backend);
            }
            // a client that left meanwhile has ended the exchange: nothing to dispatch
            exchange.gate().dispatch();
        });
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
        return client.newRequest(origin(Exchange.of(request).attempts().backend())).path(target)
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
        Set<String> connectionTokens = ForwardedHeaders.connectionTokens(clientRequest);
        proxyRequest.headers(headers -> {
            headers.clear();
            for (Enumeration<String> names = clientRequest.getHeaderNames(); names.hasMoreElements(); ) {
                String name = names.nextElement();
                if (!ForwardedHeaders.copied(name.toLowerCase(Locale.ROOT), connectionTokens)) {
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
        Backend backend = Exchange.of(clientRequest).attempts().backend();
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
                failure -> failures.clientBodyFailed(exchange, failure), exchange.gate()::completeDeferred, exchange.gate()::onTomcatThread);
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
        exchange.gate().join(async);
        Backend backend = exchange.attempts().backend();
        exchange.gate().countInFlight(() -> backends.attemptStarted(backend), () -> backends.attemptEnded(backend));
        try {
            ServletOutputStream output = response.getOutputStream();
            ResponseStreamer streamer = new ResponseStreamer(exchange, output);
            exchange.streamer(streamer);
            output.setWriteListener(streamer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        exchange.gate().backendRequest(proxyRequest);
        super.sendProxyRequest(request, response, proxyRequest);
    }

    @Override
    protected Response.Listener newProxyResponseListener(HttpServletRequest request, HttpServletResponse response) {
        return new ResponseRelay(Exchange.of(request), backends, failures, this::onServerResponseHeaders);
    }
}
