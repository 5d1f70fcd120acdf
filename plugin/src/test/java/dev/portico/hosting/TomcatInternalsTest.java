package dev.portico.hosting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import jakarta.servlet.ServletException;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.coyote.AbstractProcessor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.portico.testing.CapturedLog;
import dev.portico.testing.HostingTomcat;
import dev.portico.testsupport.Poll;
import dev.portico.testsupport.RawConnection;
import dev.portico.testsupport.RawResponse;

/**
 * What {@link TomcatInternals} relies on, against the Tomcat on the class path: each test fails
 * when an upgrade takes it away (and says which assumption went), rather than letting the races
 * it closes reopen silently.
 */
@Timeout(60)
class TomcatInternalsTest {

    /** The processor of the request being served on this thread, for a request marked X-Sweep. */
    private static final ThreadLocal<AbstractProcessor> MARKED = new ThreadLocal<>();
    private static final AtomicReference<Lock> LOCK_SEEN = new AtomicReference<>();
    private static final AtomicReference<Boolean> LOCK_HELD = new AtomicReference<>();
    /** The processor of the last request marked X-Capture. */
    private static final AtomicReference<AbstractProcessor> CAPTURED = new AtomicReference<>();

    @RegisterExtension
    static final HostingTomcat tomcat = HostingTomcat.perClass(valve -> valve.setStartupTimeLimit(20),
            // on the Engine, so that it runs before the Host's Portico valve
            embedded -> embedded.getEngine().getPipeline().addValve(new ProbeValve()));

    /** Notes the connection lock of a request marked X-Lock and the processor of one marked X-Sweep or X-Capture. */
    private static final class ProbeValve extends ValveBase {
        private final Field hook;

        ProbeValve() {
            super(true);
            try {
                hook = org.apache.coyote.Request.class.getDeclaredField("hook");
            } catch (NoSuchFieldException e) {
                throw new IllegalStateException("Tomcat's coyote Request has no field 'hook' any more", e);
            }
            hook.setAccessible(true);
        }

        @Override
        public void invoke(Request request, Response response) throws IOException, ServletException {
            if (request.getHeader("X-Lock") != null) {
                Lock lock = TomcatInternals.connectionLock(request);
                LOCK_SEEN.set(lock);
                LOCK_HELD.set(lock instanceof ReentrantLock held && held.isHeldByCurrentThread());
            }
            if (request.getHeader("X-Sweep") != null || request.getHeader("X-Capture") != null) {
                try {
                    AbstractProcessor processor = (AbstractProcessor) hook.get(request.getCoyoteRequest());
                    if (request.getHeader("X-Sweep") != null) {
                        MARKED.set(processor);
                    } else {
                        CAPTURED.set(processor);
                    }
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
            try {
                getNext().invoke(request, response);
            } finally {
                MARKED.remove();
            }
        }
    }

    @BeforeAll
    static void startTheApp() {
        tomcat.nodeApp("internals", "", Map.of());
        assertEquals(200, tomcat.get("/internals/").statusCode());
    }

    /** The lock Portico takes is the one Tomcat holds while it processes an event of the connection. */
    @Test
    void theConnectionLockIsTheOneTomcatHoldsWhileItProcessesTheConnection() throws Exception {
        try (RawConnection connection = tomcat.connect(Duration.ofSeconds(10))) {
            connection.send("GET /plain/x HTTP/1.1\r\nHost: x\r\nX-Lock: 1\r\n\r\n");
            assertEquals(200, connection.readResponse("GET").status());
        }
        assertNotNull(LOCK_SEEN.get(), "TomcatInternals.connectionLock found no lock for an HTTP/1.1 request");
        assertTrue(LOCK_HELD.get(), "the lock found is not the one Tomcat holds while processing the request");
    }

    /**
     * Tomcat's async sweep, run in the instant a forwarded request goes asynchronous — as the
     * sweep's own thread can on a loaded machine: with the timeout Jetty's proxy leaves behind
     * (0), Tomcat timed the request out and answered its bare 500, logging nothing (the random
     * 500 of the kill tests). The sweep is run from Tomcat's own trace of the state change, on
     * the request's thread; the test fails if that moment cannot be found in this Tomcat.
     */
    @Test
    void aForwardedRequestIsNotTimedOutBySweepingItAsItGoesAsynchronous() throws Exception {
        AtomicInteger swept = new AtomicInteger();
        Logger machine = Logger.getLogger("org.apache.coyote.AsyncStateMachine");
        Handler sweep = new Handler() {
            @Override
            public void publish(LogRecord record) {
                AbstractProcessor processor = MARKED.get();
                String message = record.getMessage();
                if (processor != null && message != null && message.endsWith("to [STARTING]")) {
                    MARKED.remove();
                    swept.incrementAndGet();
                    processor.timeoutAsync(System.currentTimeMillis());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        sweep.setLevel(Level.ALL);
        Level before = machine.getLevel();
        machine.setLevel(Level.FINEST);
        machine.addHandler(sweep);
        try (RawConnection connection = tomcat.connect(Duration.ofSeconds(10))) {
            // a first forwarded request leaves its processor as Portico's cycles leave it
            connection.send("GET /internals/echo HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, connection.readResponse("GET").status());
            // slow enough that a timeout, if the sweep decided one, is processed before the answer
            connection.send("GET /internals/slow?ms=300 HTTP/1.1\r\nHost: x\r\nX-Sweep: 1\r\n\r\n");
            RawResponse answer = connection.readResponse("GET");
            assertEquals(1, swept.get(), "Tomcat's trace of the state change to STARTING was not seen: "
                    + "the moment this test sweeps in no longer exists as it did; re-examine TomcatInternals");
            assertEquals(200, answer.status(), answer.text());
            assertEquals("slow done", answer.text());
        } finally {
            machine.removeHandler(sweep);
            machine.setLevel(before);
        }
    }

    /**
     * Should Tomcat ever end a forwarding cycle by itself (its Context stopped under it, or a
     * sweep like the one above), the client gets Portico's 503 and the log says why — never
     * Tomcat's bare 500 with nothing logged. Tomcat's stop path times every cycle out.
     */
    @Test
    void aCycleTomcatTimesOutIsAnswered503AndLogged() throws Exception {
        CAPTURED.set(null);
        try (CapturedLog log = new CapturedLog(); RawConnection connection = tomcat.connect(Duration.ofSeconds(10))) {
            connection.send("GET /internals/slow?ms=2000 HTTP/1.1\r\nHost: x\r\nX-Capture: 1\r\n\r\n");
            Poll.until(java.time.Duration.ofSeconds(5), "the request waiting in its async cycle",
                    () -> CAPTURED.get() != null && waitingProcessors().contains(CAPTURED.get()));
            CAPTURED.get().timeoutAsync(-1);
            RawResponse answer = connection.readResponse("GET");
            assertEquals(503, answer.status(), answer.text());
            assertTrue(answer.text().contains("Portico"), answer.text());
            Poll.until(java.time.Duration.ofSeconds(5), "a WARNING naming the request: " + log.messages(Level.WARNING),
                    () -> log.messages(Level.WARNING).stream()
                    .anyMatch(m -> m.contains("/internals/slow") && m.contains("503")));
        }
    }

    @SuppressWarnings("unchecked")
    private static List<AbstractProcessor> waitingProcessors() {
        try {
            Object protocol = ((org.apache.catalina.Engine) tomcat.valve().getContainer().getParent()).getService()
                    .findConnectors()[0].getProtocolHandler();
            Field waiting = org.apache.coyote.AbstractProtocol.class.getDeclaredField("waitingProcessors");
            waiting.setAccessible(true);
            return ((java.util.Set<Object>) waiting.get(protocol)).stream().map(p -> (AbstractProcessor) p).toList();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
