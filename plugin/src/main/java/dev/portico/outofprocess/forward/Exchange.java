package dev.portico.outofprocess.forward;

import java.io.IOException;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.coyote.ActionCode;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.hosting.ErrorPage;
import dev.portico.hosting.TomcatInternals;
import dev.portico.outofprocess.backend.Backend;
import dev.portico.outofprocess.backend.RetryPolicy;
import dev.portico.hosting.StartFailure;

/**
 * The state of one forwarded request, from the valve to the end of its async cycle: where it
 * goes, which backend serves it, and the one gate through which threads other than Tomcat's
 * touch the client's request and response.
 *
 * <p>Why a gate: Tomcat recycles a request's objects once its async cycle ends and reuses them
 * for the next request on that connection. Jetty's threads (backend response content, the end of
 * the backend exchange) may still run after a client went away; one that wrote into a recycled
 * response would write into another client's answer. Every such access therefore runs in
 * {@link #withClient} under this exchange's lock, and only while the cycle is open; Tomcat ends
 * the cycle only after {@link #onComplete} (or {@link #onError}) returned, and those take the
 * same lock. What runs under the lock never waits for Tomcat's per-connection lock (writes,
 * status and headers do not take it; listeners are registered on container threads only); the
 * end of the exchange takes that lock first ({@link TomcatInternals#connectionLock}), as Tomcat's own callbacks
 * do, so the two locks cannot deadlock. Reading the client's body, which can take
 * Tomcat's connection lock, happens on container threads only ({@link RequestBodyReader}).
 */
final class Exchange implements AsyncListener {

    static final String ATTRIBUTE = Exchange.class.getName();
    private static final Log log = LogFactory.getLog(Exchange.class);
    private static final StringManager sm = StringManager.getManager(Exchange.class);

    private final String appName;
    private final Request catalinaRequest;
    private final HttpServletRequest request;
    private final HttpServletResponse response;
    private final Response catalinaResponse;
    private final String target;
    private final boolean reserved;
    private final ReentrantLock lock = new ReentrantLock();
    /** Tomcat's lock on the client's connection (HTTP/1.1), or null. */
    private final Lock connectionLock;
    /** When Tomcat began this request: the identity of the request objects while they are this exchange's. */
    private final long requestStart;

    private boolean ended;
    private boolean clientFailed;
    private boolean counted;
    private ClientAction deferredEnd;
    private Runnable onEnd;
    private org.eclipse.jetty.client.Request backendRequest;

    // Set on container threads and where a start completes, between dispatches; read by Jetty threads.
    private volatile Backend backend;
    private volatile Backend failedBackend;
    private volatile StartFailure startFailure;
    private volatile int retriesSeen;
    private volatile int retriesUnseen;
    private volatile RequestBodyReader bodyReader;
    private volatile ResponseStreamer streamer;

    private Exchange(Request request, Response response, String appName, String contextPath) {
        this.appName = appName;
        this.catalinaRequest = request;
        this.request = request.getRequest();
        this.response = response.getResponse();
        this.catalinaResponse = response;
        ForwardedTarget routed = ForwardedTarget.of(request, contextPath);
        this.target = routed.target();
        this.reserved = routed.reserved();
        this.connectionLock = TomcatInternals.connectionLock(request);
        this.requestStart = request.getCoyoteRequest().getStartTimeNanos();
    }

    /** The exchange of a request entering an out-of-process app (created on its first pass only). */
    static Exchange begin(Request request, Response response, String appName, String contextPath) {
        Exchange exchange = of(request);
        if (exchange == null) {
            exchange = new Exchange(request, response, appName, contextPath);
            request.setAttribute(ATTRIBUTE, exchange);
        }
        return exchange;
    }

    static Exchange of(jakarta.servlet.ServletRequest request) {
        return (Exchange) request.getAttribute(ATTRIBUTE);
    }

    /** Path and query for the backend: the path the front routed, never the client's raw spelling. */
    String target() {
        return target;
    }

    /** True when the request names Portico's reserved path below the app ({@code /.portico/}). */
    boolean reserved() {
        return reserved;
    }

    HttpServletRequest request() {
        return request;
    }

    /** The user Tomcat authenticated as Tomcat holds it (a Realm's GenericPrincipal), or null. */
    java.security.Principal authenticatedPrincipal() {
        return catalinaRequest.getPrincipal();
    }

    Backend backend() {
        return backend;
    }

    void backend(Backend backend) {
        this.backend = backend;
    }

    StartFailure startFailure() {
        return startFailure;
    }

    void startFailure(StartFailure failure) {
        this.startFailure = failure;
    }

    /** The attempt that just failed, as {@link RetryPolicy} weighs it. */
    RetryPolicy.Attempt attempt(RetryPolicy.Failure failure, boolean answerStarted, boolean backendAlive) {
        return new RetryPolicy.Attempt(request.getMethod(), bodyReader != null, failure, answerStarted, retriesSeen,
                retriesUnseen, backendAlive);
    }

    /**
     * Counts the attempt, counts the request out of the backend that failed, and forgets that
     * backend: the next one is chosen afresh, avoiding it if another is ready.
     */
    void retrying(boolean neverSeen) {
        if (neverSeen) {
            retriesUnseen++;
        } else {
            retriesSeen++;
        }
        Runnable last;
        lock.lock();
        try {
            last = onEnd;
            onEnd = null;
            counted = false;
        } finally {
            lock.unlock();
        }
        if (last != null) {
            last.run();
        }
        failedBackend = backend;
        backend = null;
    }

    /** The backend the last attempt failed on, or null. */
    Backend failedBackend() {
        return failedBackend;
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

    /**
     * Joins the async cycle the servlet just started: every cycle of the exchange (a wait for a
     * starting process, each forwarding attempt) must be joined, because Tomcat drops an async
     * cycle's listeners when the next one starts, and the end of the last cycle is where the
     * exchange ends.
     */
    void join(AsyncContext async) {
        async.addListener(this);
    }

    /** Counts the exchange in flight on its backend (once per attempt): {@code onEnd} runs when it ends or is retried. */
    void countInFlight(Runnable inFlight, Runnable onEnd) {
        lock.lock();
        try {
            if (!counted && !ended) {
                counted = true;
                this.onEnd = onEnd;
                inFlight.run();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The backend request, so that a client that leaves aborts it (the backend stops working for nobody). */
    void backendRequest(org.eclipse.jetty.client.Request request) {
        lock.lock();
        try {
            this.backendRequest = request;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Under the lock: the client's exchange is open and the request objects are still this
     * exchange's. The second half is a safety net for a path on which Tomcat recycles a request
     * without ending its async cycle first (a connection its poller closes): recycling resets the
     * request's start time, and the next client's request on those objects has its own, so a
     * recycled or reused request no longer has this exchange's (a field read; the attribute
     * lookup it replaces cost more than the rest of the check, several times per request).
     */
    private boolean open() {
        if (!ended && catalinaRequest.getCoyoteRequest().getStartTimeNanos() != requestStart) {
            ended = true;
            // no listener will tell of this end: count the request out here (a cheap, non-blocking decrement)
            Runnable last = onEnd;
            onEnd = null;
            if (last != null) {
                last.run();
            }
        }
        return !ended;
    }

    /**
     * Runs {@code action} on the client's request and response if the client's exchange is
     * still open, under the exchange's lock. Returns false when it is over (the client left, or
     * the answer is complete): then nothing was touched.
     */
    boolean withClient(ClientAction action) {
        lock.lock();
        try {
            if (!open()) {
                return false;
            }
            action.run(request, response);
            return true;
        } catch (IOException | RuntimeException e) {
            clientFailed = true;
            throw new ClientGone(e);
        } finally {
            lock.unlock();
        }
    }

    /** Asks {@code question} of the client's request and response, under the lock; {@code otherwise} when the client's exchange is over. */
    <T> T ifOpen(java.util.function.BiFunction<HttpServletRequest, HttpServletResponse, T> question, T otherwise) {
        lock.lock();
        try {
            return open() ? question.apply(request, response) : otherwise;
        } finally {
            lock.unlock();
        }
    }

    /** Asks {@code test} of the client's request and response, under the lock; false when the client's exchange is over. */
    boolean whileOpen(java.util.function.BiPredicate<HttpServletRequest, HttpServletResponse> test) {
        lock.lock();
        try {
            return open() && test.test(request, response);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Ends the exchange from the forwarding side: {@code last} writes the end of the answer, then
     * the cycle completes — on a container thread when the backend was quicker than Tomcat: the
     * end waits for Tomcat's first write callback of the cycle (the one registering the write
     * listener asks for) and, when the request has a body, for onAllDataRead, and happens in the
     * last of them. Completing from a Jetty thread while Tomcat still had such an event queued or
     * armed let it process a read in a completing state (SEVERE "asyncOperation() is not valid …
     * COMPLETING", and the keep-alive connection closed without an answer).
     */
    boolean complete(ClientAction last) {
        return complete(last, false);
    }

    /**
     * {@link #complete}, at once if {@code now}: for an answer that cannot wait, because Tomcat
     * closes the connection as soon as the current callback unwinds (a request body it refused).
     */
    boolean complete(ClientAction last, boolean now) {
        RequestBodyReader unfinished = null;
        // Tomcat's connection lock before this exchange's, the order its own callbacks take them in
        Lock connection = lockConnection();
        lock.lock();
        try {
            if (!open()) {
                return false;
            }
            if (!now && !readyToComplete()) {
                deferredEnd = last;
                unfinished = bodyReader != null && bodyReader.awaitsAllDataRead() ? bodyReader : null;
                return true;
            }
            completeLocked(last);
            return true;
        } finally {
            lock.unlock();
            unlockConnection(connection);
            if (unfinished != null) {
                // the rest of the body is read and dropped, so that onAllDataRead comes and ends the
                // exchange; not under these locks, as draining may wait on Tomcat's connection lock
                unfinished.stopForwarding();
            }
        }
    }

    /**
     * Takes the lock of the client's HTTP/1.1 connection, if it has one ({@link TomcatInternals#connectionLock}):
     * a completion under it cannot overlap Tomcat's processing of an event of that connection.
     */
    private Lock lockConnection() {
        Lock connection = connectionLock;
        if (connection == null) {
            return null;
        }
        connection.lock();
        return connection;
    }

    private static void unlockConnection(Lock connection) {
        if (connection != null) {
            connection.unlock();
        }
    }

    /**
     * Whether Tomcat's non-blocking machinery for this cycle is at rest: its first write callback
     * has run, and a request body has had its onAllDataRead — also an empty one, and one the
     * backend failed in the middle of, which is then read to its end and dropped (up to a limit).
     * Tomcat processes events it has already queued or armed for the read listener even after
     * {@code complete()} began, and then fails the connection.
     */
    private boolean readyToComplete() {
        ResponseStreamer writer = streamer;
        RequestBodyReader reader = bodyReader;
        return (writer == null || writer.wasCalled()) && (reader == null || !reader.awaitsAllDataRead());
    }

    /** Runs an end that waited for Tomcat's callbacks, once they have come (from those callbacks, on container threads). */
    void completeDeferred() {
        Lock connection = lockConnection();
        lock.lock();
        try {
            ClientAction last = deferredEnd;
            if (last != null && open() && readyToComplete()) {
                deferredEnd = null;
                completeLocked(last);
            }
        } finally {
            lock.unlock();
            unlockConnection(connection);
        }
    }

    private void completeLocked(ClientAction last) {
        try {
            last.run(request, response);
        } catch (IOException | RuntimeException e) {
            closeConnection();
        }
        ended = true;
        try {
            if (request.isAsyncStarted()) {
                request.getAsyncContext().complete();
            }
        } catch (IllegalStateException e) {
            // Tomcat is already ending the cycle (an error it dispatched): it completes it itself
        }
    }

    /**
     * Dispatches the request into the app again (a process became ready, or a retry), from a
     * thread that is not Tomcat's: under Tomcat's connection lock, for the same reason as the end
     * of the exchange ({@link TomcatInternals#connectionLock}). Nothing happens when the client has left.
     *
     * <p>A dispatch Tomcat refuses (its Context is gone, or the cycle is already ending) would leave
     * the cycle open with nobody to end it; the exchange is answered 503 instead, and the refusal
     * logged.
     */
    void dispatch() {
        RuntimeException refused = null;
        Lock connection = lockConnection();
        lock.lock();
        try {
            if (!open()) {
                return;
            }
            request.getAsyncContext().dispatch();
        } catch (RuntimeException e) {
            refused = e;
        } finally {
            lock.unlock();
            unlockConnection(connection);
        }
        if (refused != null) {
            answerUnavailable(sm.getString("exchange.dispatchRefused", appName, target, refused.toString()));
        }
    }

    /** Ends the exchange with a 503 (or, once the answer is under way, a closed connection) and says why in the log. */
    private void answerUnavailable(String reason) {
        log.warn(reason);
        complete((clientRequest, response) -> {
            if (response.isCommitted()) {
                closeConnection();
                return;
            }
            response.reset();
            // what is left of a body is not read: the connection ends with this answer
            response.setHeader("Connection", "close");
            ErrorPage.unavailable(reason).send(response);
        }, true);
    }

    /**
     * Runs {@code task} on one of Tomcat's threads, under the client's connection lock, if the
     * exchange is still open by then (else not at all): the lock keeps Tomcat from recycling the
     * request while the task runs, since Tomcat recycles only while it processes an event of the
     * connection. For work that may make Tomcat process the connection's next event inline, which
     * must not happen on a Jetty thread.
     */
    void onTomcatThread(Runnable task) {
        lock.lock();
        try {
            if (!open()) {
                return;
            }
            request.getAsyncContext().start(() -> {
                Lock connection = lockConnection();
                try {
                    if (!isEnded()) {
                        task.run();
                    }
                } finally {
                    unlockConnection(connection);
                }
            });
        } catch (IllegalStateException e) {
            // the cycle is ending (an error Tomcat dispatched, or the completion began): nothing more is read
        } finally {
            lock.unlock();
        }
    }

    /** The answer cannot be finished honestly (it is committed): cut the connection so that the client sees an error, not a short body. */
    void closeConnection() {
        lock.lock();
        try {
            if (open()) {
                catalinaResponse.getCoyoteResponse().action(ActionCode.CLOSE_NOW, null);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code action} under the exchange's lock whether or not the client's exchange is open. */
    <T> T locked(java.util.function.Supplier<T> action) {
        lock.lock();
        try {
            return action.get();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Makes the response writable again after Tomcat refused the client's body: its own 400 is
     * only rendered once the async cycle unwinds, by which time the connection is closed, so the
     * answer must be written now (as CoyoteAdapter itself does before a read listener's onError).
     */
    void unsuspend() {
        catalinaResponse.setSuspended(false);
    }

    /** Tomcat reported that writing to the client failed (to the response's write listener). */
    void clientLeft() {
        lock.lock();
        try {
            clientFailed = true;
        } finally {
            lock.unlock();
        }
    }

    /** True when writing to the client failed: it went away, and Tomcat ends the cycle. */
    boolean clientFailed() {
        lock.lock();
        try {
            return clientFailed;
        } finally {
            lock.unlock();
        }
    }

    boolean isEnded() {
        lock.lock();
        try {
            return !open();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------- the async cycle

    @Override
    public void onComplete(AsyncEvent event) {
        end(null);
    }

    @Override
    public void onError(AsyncEvent event) {
        end(event.getThrowable() == null ? new IOException("the client's exchange failed") : event.getThrowable());
    }

    /**
     * Forwarding cycles have no timeout of their own (requestTimeout is the backend's idle
     * timeout); Tomcat times one out when its Context is no longer running, and would then answer
     * its own bare 500 with no word in the log. That only happens to a request its generation did
     * not wait for (a drain that ran out of shutdownTimeLimit): it is answered 503 and logged.
     */
    @Override
    public void onTimeout(AsyncEvent event) {
        answerUnavailable(sm.getString("exchange.containerTimeout", appName, target));
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // a dispatch ends the cycle's listeners; the servlet joins the new cycle itself (started)
    }

    private void end(Throwable failure) {
        Runnable last;
        org.eclipse.jetty.client.Request abort;
        lock.lock();
        try {
            ended = true;
            last = onEnd;
            onEnd = null;
            abort = backendRequest;
        } finally {
            lock.unlock();
        }
        RequestBodyReader reader = bodyReader;
        if (reader != null) {
            reader.clientEnded();
        }
        if (abort != null) {
            abort.abort(failure != null ? failure : new IOException("the client's exchange ended"));
        }
        if (last != null) {
            last.run();
        }
    }

    /** Something done with the client's request and response. */
    @FunctionalInterface
    interface ClientAction {
        void run(HttpServletRequest request, HttpServletResponse response) throws IOException;
    }

    /** The client's side failed under an action (it went away while being written to, typically). */
    static final class ClientGone extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ClientGone(Throwable cause) {
            super(cause);
        }
    }
}
