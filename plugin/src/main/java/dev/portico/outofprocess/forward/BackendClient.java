package dev.portico.outofprocess.forward;

import java.net.ConnectException;
import java.net.SocketAddress;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SelectableChannel;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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
import org.eclipse.jetty.io.ClientConnectionFactory;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Transport;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import dev.portico.integration.BackendContract;
import dev.portico.outofprocess.backend.BackendAddress;
import dev.portico.outofprocess.backend.HttpProbe;
import dev.portico.outofprocess.forward.upgrade.BackendChannel;

/**
 * The one Jetty HttpClient that forwards to every backend of a Host. Sharing it keeps one
 * selector and one small thread pool however many apps are hosted; each app's forwarding
 * servlet borrows it rather than starting its own. HTTP/1.1 only: backends are on loopback
 * (a port, or a Unix domain socket with transport="unix": Jetty's {@code Transport.TCPUnix}
 * on the same selector) and speak plain HTTP. Upgraded connections are opened on its connector
 * too ({@link #openChannel}), so that both transports share one tunnel.
 */
public final class BackendClient implements AutoCloseable, HttpProbe {

    /** The attribute under which ProxyServlet keeps the action that sends a delayed body after 100 Continue. */
    private static final String CONTINUE_ACTION = ProxyServlet.class.getName() + ".continueAction";

    private final HttpClient client;
    private final ClientConnector connector;
    private final Set<BackendChannel> openChannels = ConcurrentHashMap.newKeySet();

    /**
     * @param idleTimeout how long a pooled connection may stay idle: the valve's default
     *        requestTimeout, which each forwarded request sets as its own, so that setting it
     *        changes nothing (a shorter one than the request's costs a timer cancelled and
     *        scheduled again per request)
     * @param backendIdleTimeout how long a pooled connection may stay idle before it is given up
     *        rather than reused (see {@link FreshConnectionPool})
     */
    public BackendClient(String name, int maxThreads, Duration idleTimeout, Duration backendIdleTimeout) throws Exception {
        connector = new BackendConnector();
        connector.setSelectors(1);
        HttpClientTransportOverHTTP transport = new HttpClientTransportOverHTTP(connector);
        // Portico's response listeners never block (they write to Tomcat without blocking and end
        // the exchange under locks held only for a callback's length): they run on the selector
        // thread that read the backend's bytes, without a hand-off to a pool thread per event.
        transport.setInvocationType(Invocable.InvocationType.NON_BLOCKING);
        transport.setConnectionPoolFactory(destination -> new FreshConnectionPool(destination, backendIdleTimeout));
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
        onlyInterimAnswerHandlers(client);
    }

    /**
     * Bodies pass through as the backend encoded them; interim answers (102 Processing, 103 Early
     * Hints) are consumed here — without their handlers Jetty takes a 1xx for the final answer's
     * head and the exchange never ends.
     */
    private static void onlyInterimAnswerHandlers(HttpClient client) {
        client.getContentDecoderFactories().clear();
        client.getProtocolHandlers().clear();
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

    /**
     * Where Jetty sends one backend's requests, made once per process rather than per request:
     * the origin URI (parsed once) and the transport, which with the origin picks the pool of
     * connections (one per socket for transport="unix").
     */
    record Target(BackendAddress address, URI origin, Transport transport) {

        static Target of(BackendAddress address) {
            return address.isUnix()
                    ? new Target(address, URI.create("http://localhost/"), new Transport.TCPUnix(address.socket()))
                    : new Target(address, URI.create("http://127.0.0.1:" + address.port() + "/"), Transport.TCP_IP);
        }
    }

    /** A request to the backend at {@code target}; the caller sets path, method and headers. */
    Request newRequest(Target target) {
        return client.newRequest(target.origin()).transport(target.transport());
    }

    /** A readiness or health check: a GET with the pairing token; only the status counts. */
    @Override
    public CompletableFuture<Integer> get(BackendAddress backend, String pathAndQuery, String token, Duration timeout) {
        return send(newRequest(Target.of(backend)).path(pathAndQuery)
                .headers(headers -> headers.put(BackendContract.TOKEN_HEADER, token)), timeout);
    }

    @Override
    public CompletableFuture<Integer> shutdown(BackendAddress backend, String path, String token, Duration timeout) {
        return send(newRequest(Target.of(backend)).path(path).method("POST")
                .headers(headers -> headers.put(BackendContract.TOKEN_HEADER, token).put(BackendContract.EVENT_HEADER, BackendContract.SHUTDOWN_EVENT)), timeout);
    }

    private CompletableFuture<Integer> send(Request request, Duration timeout) {
        CompletableFuture<Integer> status = new CompletableFuture<>();
        try {
            request.timeout(timeout.toMillis(), TimeUnit.MILLISECONDS).send(result -> {
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

    /** A raw connection to a backend, for an upgraded request; open until closed, or {@link #closeChannels}. */
    public CompletableFuture<BackendChannel> openChannel(BackendAddress backend) {
        CompletableFuture<BackendChannel> opened = new CompletableFuture<>();
        Map<String, Object> context = new HashMap<>();
        context.put(Transport.CONTEXT_KEY, Target.of(backend).transport());
        context.put(ClientConnectionFactory.CONTEXT_KEY,
                (ClientConnectionFactory) (endPoint, ignored) -> new BackendChannel.Holder(endPoint, client.getExecutor()));
        context.put(ClientConnector.CONNECTION_PROMISE_CONTEXT_KEY, new Promise<Connection>() {
            @Override
            public void succeeded(Connection connection) {
                BackendChannel[] self = new BackendChannel[1];
                self[0] = new BackendChannel(connection.getEndPoint(), client.getByteBufferPool(),
                        () -> openChannels.remove(self[0]));
                openChannels.add(self[0]);
                if (!opened.complete(self[0])) {
                    self[0].close();
                }
            }

            @Override
            public void failed(Throwable failure) {
                opened.completeExceptionally(failure);
            }
        });
        connector.connect(backend.socketAddress(), context);
        return opened;
    }

    /** Closes every upgraded connection still open, so that their client connections end before the Contexts stop. */
    public void closeChannels() {
        for (BackendChannel channel : Set.copyOf(openChannels)) {
            channel.close();
        }
    }

    /**
     * A Unix domain socket that is not there (its process died and its file went with it) fails
     * with ENOENT, a plain {@code SocketException}, where a port would refuse the connection: both
     * are a {@link ConnectException}, the backend never saw the request, so it is retried the same
     * way over either transport.
     */
    private static final class BackendConnector extends ClientConnector {
        @Override
        protected void connectFailed(SelectableChannel channel, SocketAddress address, Throwable failure,
                Map<String, Object> context) {
            Throwable reported = failure;
            if (address instanceof UnixDomainSocketAddress socket && !(failure instanceof ConnectException)) {
                reported = new ConnectException("cannot connect to " + socket.getPath() + ": " + rootMessage(failure));
                reported.initCause(failure);
            }
            super.connectFailed(channel, address, reported, context);
        }

        private static String rootMessage(Throwable failure) {
            Throwable root = failure;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            return root.getMessage();
        }
    }

    @Override
    public void close() throws Exception {
        closeChannels();
        client.stop();
    }
}
