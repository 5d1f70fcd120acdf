package dev.portico.forward;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.client.ContinueProtocolHandler;
import org.eclipse.jetty.client.EarlyHintsProtocolHandler;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.ProcessingProtocolHandler;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.ee11.proxy.ProxyServlet;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import dev.portico.process.HttpProbe;

/**
 * The one Jetty HttpClient that forwards to every backend of a Host. Sharing it keeps one
 * selector and one small thread pool however many apps are hosted; each app's forwarding
 * servlet borrows it rather than starting its own. HTTP/1.1 only: backends are on loopback
 * and speak plain HTTP.
 */
public final class BackendClient implements AutoCloseable, HttpProbe {

    /** The attribute under which ProxyServlet keeps the action that sends a delayed body after 100 Continue. */
    private static final String CONTINUE_ACTION = ProxyServlet.class.getName() + ".continueAction";

    private final HttpClient client;

    /**
     * @param idleTimeout how long a pooled connection may stay idle: the valve's default
     *        requestTimeout, which each forwarded request sets as its own, so that setting it
     *        changes nothing (a shorter one than the request's costs a timer cancelled and
     *        scheduled again per request)
     */
    public BackendClient(String name, int maxThreads, Duration idleTimeout) throws Exception {
        ClientConnector connector = new ClientConnector();
        connector.setSelectors(1);
        HttpClientTransportOverHTTP transport = new HttpClientTransportOverHTTP(connector);
        // Portico's response listeners never block (they write to Tomcat without blocking and end
        // the exchange under locks held only for a callback's length): they run on the selector
        // thread that read the backend's bytes, without a hand-off to a pool thread per event.
        transport.setInvocationType(Invocable.InvocationType.NON_BLOCKING);
        client = new HttpClient(transport);
        QueuedThreadPool threads = new QueuedThreadPool(maxThreads, Math.min(8, maxThreads));
        threads.setName(name);
        threads.setDaemon(true);
        client.setExecutor(threads);
        // Redirects and cookies belong to the client at the front, never to the forwarder.
        client.setFollowRedirects(false);
        client.setHttpCookieStore(new HttpCookieStore.Empty());
        client.setMaxConnectionsPerDestination(1024);
        client.setIdleTimeout(idleTimeout.toMillis());
        // Heap buffers: ProxyServlet hands response content to the servlet output as a byte[];
        // with direct buffers (Jetty's default) it would copy every chunk into a new array first.
        client.setUseInputDirectByteBuffers(false);
        // 64 KiB reads: a large body crosses in a few chunks (each one a write and a flush at the
        // front) instead of many 16 KiB ones; a read never waits to fill the buffer, so SSE stays live.
        client.setResponseBufferSize(64 * 1024);
        client.start();
        // Bodies pass through as the backend encoded them.
        client.getContentDecoderFactories().clear();
        client.getProtocolHandlers().clear();
        // Interim answers (102 Processing, 103 Early Hints) are consumed here; without their
        // handlers Jetty takes a 1xx for the final answer's head and the exchange never ends.
        client.getProtocolHandlers().put(new ProcessingProtocolHandler());
        client.getProtocolHandlers().put(new EarlyHintsProtocolHandler());
        client.getProtocolHandlers().put(new ContinueProtocolHandler() {
            @Override
            public boolean accept(Request request, Response response) {
                // Portico never sends Expect to a backend (the front answers it): only an unsolicited
                // 100 is this handler's, and the status is checked before anything costlier per response
                return response.getStatus() == HttpStatus.CONTINUE_100 && super.accept(request, response);
            }

            @Override
            protected Runnable onContinue(Request request) {
                return (Runnable) request.getAttributes().get(CONTINUE_ACTION);
            }
        });
    }

    HttpClient httpClient() {
        return client;
    }

    /** A readiness or health check: a GET with the pairing token; only the status counts. */
    @Override
    public CompletableFuture<Integer> get(int port, String pathAndQuery, String token, Duration timeout) {
        CompletableFuture<Integer> status = new CompletableFuture<>();
        try {
            client.newRequest("http://127.0.0.1:" + port + pathAndQuery)
                    .headers(headers -> headers.put(ForwardedHeaders.TOKEN, token))
                    .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .send(result -> {
                        // on the selector thread: what waits on a probe (starting, ejecting, hooks) runs elsewhere
                        client.getExecutor().execute(() -> {
                            if (result.isFailed()) {
                                status.completeExceptionally(result.getFailure());
                            } else {
                                status.complete(result.getResponse().getStatus());
                            }
                        });
                    });
        } catch (RuntimeException e) {
            status.completeExceptionally(e);
        }
        return status;
    }

    @Override
    public void close() throws Exception {
        client.stop();
    }
}
