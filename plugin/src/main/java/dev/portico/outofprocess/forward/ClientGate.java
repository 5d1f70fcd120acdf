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

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.hosting.ErrorPage;

/**
 * The one gate through which threads other than Tomcat's touch an exchange's client request and
 * response, and the way its async cycle ends.
 *
 * <p>Why a gate: Tomcat recycles a request's objects once its async cycle ends and reuses them
 * for the next request on that connection. Jetty's threads (backend response content, the end of
 * the backend exchange) may still run after a client went away; one that wrote into a recycled
 * response would write into another client's answer. Every such access therefore runs in
 * {@link #withClient} under the gate's lock, and only while the cycle is open; Tomcat ends the
 * cycle only after its listeners' onComplete (or onError) returned, and those take the same lock.
 * What runs under the lock never waits for Tomcat's connection lock (writes, status and headers
 * do not take it; listeners are registered on container threads only); the end of the exchange
 * takes that lock first, as Tomcat's own callbacks do, so the two cannot deadlock. Reading the
 * client's body, which can take Tomcat's connection lock, happens on container threads only
 * ({@link RequestBodyReader}).
 */
final class ClientGate {

    private static final Log log = LogFactory.getLog(ClientGate.class);
    private static final StringManager sm = StringManager.getManager(ClientGate.class);

    private final Exchange exchange;
    private final ClientConnection client;
    private final ReentrantLock lock = new ReentrantLock();
    private final AsyncListener listener = new CycleListener(this);

    private boolean ended;
    private boolean clientFailed;
    private ClientAction deferredEnd;
    /** Counts the current attempt out of its backend; set while it is counted in. */
    private Runnable countOut;
    private org.eclipse.jetty.client.Request backendRequest;

    ClientGate(Exchange exchange, ClientConnection client) {
        this.exchange = exchange;
        this.client = client;
    }

    // ---------------------------------------------------------------- what the client's end undoes

    /** Counts the attempt in on its backend, once: {@code countOut} runs when the exchange ends or the attempt is retried. */
    void countInFlight(Runnable countIn, Runnable countOut) {
        lock.lock();
        try {
            if (this.countOut == null && !ended) {
                this.countOut = countOut;
                countIn.run();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The attempt failed and goes again: counted out of its backend now. */
    void countOut() {
        runCountOut(locked(this::takeCountOut));
    }

    /** Lock held. */
    private Runnable takeCountOut() {
        Runnable out = countOut;
        countOut = null;
        return out;
    }

    private static void runCountOut(Runnable out) {
        if (out != null) {
            out.run();
        }
    }

    /** The backend request, so that a client that leaves aborts it (the backend stops working for nobody). */
    void backendRequest(org.eclipse.jetty.client.Request request) {
        locked(() -> this.backendRequest = request);
    }

    // ---------------------------------------------------------------- the gate

    /**
     * Lock held: the client's exchange is open and the request objects are still this
     * exchange's. The second half is a safety net for a path on which Tomcat recycles a request
     * without ending its async cycle first (a connection its poller closes).
     */
    private boolean open() {
        if (!ended && !client.stillThisRequest()) {
            ended = true;
            // no listener will tell of this end: count the request out here (a cheap, non-blocking decrement)
            runCountOut(takeCountOut());
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
            action.run(client.request(), client.response());
            return true;
        } catch (IOException | RuntimeException e) {
            clientFailed = true;
            throw new ClientGone(e);
        } finally {
            lock.unlock();
        }
    }

    /** Asks {@code question} of the client's request and response, under the lock; {@code otherwise} when the client's exchange is over. */
    <T> T ifOpen(BiFunction<HttpServletRequest, HttpServletResponse, T> question, T otherwise) {
        lock.lock();
        try {
            return open() ? question.apply(client.request(), client.response()) : otherwise;
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code action} under the exchange's lock whether or not the client's exchange is open. */
    <T> T locked(Supplier<T> action) {
        lock.lock();
        try {
            return action.get();
        } finally {
            lock.unlock();
        }
    }

    boolean isEnded() {
        return locked(() -> !open());
    }

    /** Tomcat reported that writing to the client failed (to the response's write listener). */
    void clientLeft() {
        locked(() -> clientFailed = true);
    }

    /** True when writing to the client failed: it went away, and Tomcat ends the cycle. */
    boolean clientFailed() {
        return locked(() -> clientFailed);
    }

    // ---------------------------------------------------------------- ending, dispatching

    /**
     * Ends the exchange from the forwarding side: {@code last} writes the end of the answer, then
     * the cycle completes — on a container thread when the backend was quicker than Tomcat: the
     * end waits for Tomcat's first write callback of the cycle (the one registering the write
     * listener asks for) and, when the request has a body, for onAllDataRead, and happens in the
     * last of them. Completing from a Jetty thread while Tomcat still had such an event queued or
     * armed let it process a read in a completing state (SEVERE "asyncOperation() is not valid …
     * COMPLETING", and the keep-alive connection closed without an answer). With {@code now} the
     * end does not wait: for an answer Tomcat would not let through later (a body it refused
     * closes the connection as soon as the current callback unwinds).
     */
    void complete(ClientAction last, boolean now) {
        RequestBodyReader unfinished = bothLocked(() -> {
            if (!open()) {
                return null;
            }
            if (!now && !readyToComplete()) {
                deferredEnd = last;
                RequestBodyReader reader = exchange.bodyReader();
                return reader != null && reader.awaitsAllDataRead() ? reader : null;
            }
            completeLocked(last);
            return null;
        });
        if (unfinished != null) {
            // the rest of the body is read and dropped, so that onAllDataRead comes and ends the
            // exchange; not under these locks, as draining may wait on Tomcat's connection lock
            unfinished.stopForwarding();
        }
    }

    void complete(ClientAction last) {
        complete(last, false);
    }

    /** Runs an end that waited for Tomcat's callbacks, once they have come (from those callbacks, on container threads). */
    void completeDeferred() {
        bothLocked(() -> {
            ClientAction last = deferredEnd;
            if (last != null && open() && readyToComplete()) {
                deferredEnd = null;
                completeLocked(last);
            }
            return null;
        });
    }

    /**
     * Whether Tomcat's non-blocking machinery for this cycle is at rest: its first write callback
     * has run, and a request body has had its onAllDataRead — also an empty one, and one the
     * backend failed in the middle of, which is then read to its end and dropped (up to a limit).
     */
    private boolean readyToComplete() {
        ResponseStreamer writer = exchange.streamer();
        RequestBodyReader reader = exchange.bodyReader();
        return (writer == null || writer.wasCalled()) && (reader == null || !reader.awaitsAllDataRead());
    }

    private void completeLocked(ClientAction last) {
        try {
            last.run(client.request(), client.response());
        } catch (IOException | RuntimeException e) {
            closeConnection();
        }
        ended = true;
        client.complete();
    }

    /**
     * Runs {@code action} under Tomcat's lock on the connection, then this exchange's — the order
     * Tomcat's own callbacks take them in, so the two cannot deadlock: a completion or dispatch
     * from a thread that is not Tomcat's then cannot overlap Tomcat's processing of an event of
     * the connection.
     */
    private <T> T bothLocked(Supplier<T> action) {
        return connectionLocked(() -> locked(action));
    }

    private <T> T connectionLocked(Supplier<T> action) {
        Lock connection = client.lock();
        if (connection == null) {
            return action.get();
        }
        connection.lock();
        try {
            return action.get();
        } finally {
            connection.unlock();
        }
    }

    /**
     * Dispatches the request into the app again (a process became ready, or a retry), from a
     * thread that is not Tomcat's. Nothing happens when the client has left. A dispatch Tomcat
     * refuses (its Context is gone, or the cycle is already ending) would leave the cycle open
     * with nobody to end it; the exchange is answered 503 instead, and the refusal logged.
     */
    void dispatch() {
        RuntimeException refused = bothLocked(() -> {
            try {
                if (open()) {
                    client.dispatch();
                }
                return null;
            } catch (RuntimeException e) {
                return e;
            }
        });
        if (refused != null) {
            answerUnavailable(sm.getString("exchange.dispatchRefused", exchange.appName(), exchange.target(), refused.toString()));
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
            client.onContainerThread(() -> connectionLocked(() -> {
                if (!isEnded()) {
                    task.run();
                }
                return null;
            }));
        } catch (IllegalStateException e) {
            // the cycle is ending (an error Tomcat dispatched, or the completion began): nothing more is read
        } finally {
            lock.unlock();
        }
    }

    /** The answer cannot be finished honestly (it is committed): cut the connection so that the client sees an error, not a short body. */
    void closeConnection() {
        locked(() -> {
            if (open()) {
                client.closeNow();
            }
            return null;
        });
    }

    /**
     * Makes the response writable again after Tomcat refused the client's body: its own 400 is
     * only rendered once the async cycle unwinds, by which time the connection is closed, so the
     * answer must be written now (as CoyoteAdapter itself does before a read listener's onError).
     */
    void unsuspend() {
        client.unsuspend();
    }

    // ---------------------------------------------------------------- the async cycle

    /**
     * Joins the async cycle the servlet just started: every cycle of the exchange (a wait for a
     * starting process, each forwarding attempt) must be joined, because Tomcat drops an async
     * cycle's listeners when the next one starts, and the end of the last cycle is where the
     * exchange ends.
     */
    void join(AsyncContext async) {
        async.addListener(listener);
    }

    /** The client's exchange is over (the cycle completed, or failed): the backend request is aborted and counted out. */
    void end(Throwable failure) {
        Runnable out;
        org.eclipse.jetty.client.Request abort;
        lock.lock();
        try {
            ended = true;
            out = takeCountOut();
            abort = backendRequest;
        } finally {
            lock.unlock();
        }
        RequestBodyReader reader = exchange.bodyReader();
        if (reader != null) {
            reader.clientEnded();
        }
        if (abort != null) {
            abort.abort(failure != null ? failure : new IOException("the client's exchange ended"));
        }
        runCountOut(out);
    }

    /**
     * Forwarding cycles have no timeout of their own (requestTimeout is the backend's idle
     * timeout; TomcatInternals keeps Tomcat's sweep away); should Tomcat end one anyway (its
     * Context stopped under it), the client gets a 503 and the log says why, not Tomcat's bare 500.
     */
    void timedOutByContainer() {
        answerUnavailable(sm.getString("exchange.containerTimeout", exchange.appName(), exchange.target()));
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
