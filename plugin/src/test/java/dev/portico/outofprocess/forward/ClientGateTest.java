package dev.portico.outofprocess.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.Principal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.eclipse.jetty.client.AsyncRequestContent;
import org.junit.jupiter.api.Test;

/**
 * The exchange's rules, without Tomcat: a client connection that only records what is asked of
 * it. What is checked is the gate and the end of the cycle — when an action may touch the client,
 * when the end waits for Tomcat's callbacks and happens once, how an attempt is counted in and
 * out — not Tomcat (the forwarding suites do that).
 */
class ClientGateTest {

    /** Records what the exchange asks of the container. */
    private static final class RecordingConnection implements ClientConnection {
        final ReentrantLock lock = new ReentrantLock();
        boolean recycled;
        int completions;
        int dispatches;
        int closes;
        final List<Runnable> containerTasks = new ArrayList<>();

        @Override
        public HttpServletRequest request() {
            return null;
        }

        @Override
        public HttpServletResponse response() {
            return null;
        }

        @Override
        public Principal authenticatedPrincipal() {
            return null;
        }

        @Override
        public boolean stillThisRequest() {
            return !recycled;
        }

        @Override
        public Lock lock() {
            return lock;
        }

        @Override
        public void complete() {
            assertTrue(lock.isHeldByCurrentThread(), "the cycle ended without Tomcat's connection lock");
            completions++;
        }

        @Override
        public void dispatch() {
            assertTrue(lock.isHeldByCurrentThread(), "dispatched without Tomcat's connection lock");
            dispatches++;
        }

        @Override
        public void onContainerThread(Runnable task) {
            containerTasks.add(task);
        }

        @Override
        public void closeNow() {
            closes++;
        }

        @Override
        public void unsuspend() {
        }
    }

    /** An output that is always ready and keeps what is written. */
    private static final class ReadyOutput extends ServletOutputStream {
        final ByteArrayOutputStream written = new ByteArrayOutputStream();

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setWriteListener(WriteListener listener) {
        }

        @Override
        public void write(int b) {
            written.write(b);
        }
    }

    /** A request body that has been read to its end. */
    private static final class FinishedInput extends ServletInputStream {
        @Override
        public boolean isFinished() {
            return true;
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
        }

        @Override
        public int read() {
            return -1;
        }
    }

    private final RecordingConnection client = new RecordingConnection();
    private final Exchange exchange = new Exchange(client, "app", new ForwardedTarget("/app/x", false));
    private final ClientGate gate = exchange.gate();

    @Test
    void actionsReachTheClientOnlyWhileTheExchangeIsOpen() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        assertTrue(gate.withClient((request, response) -> ran.incrementAndGet()));
        gate.end(null);
        assertFalse(gate.withClient((request, response) -> ran.incrementAndGet()), "an action after the end");
        assertEquals("late", gate.ifOpen((request, response) -> "asked", "late"));
        assertEquals(1, ran.get());
        assertTrue(gate.isEnded());
    }

    @Test
    void anActionThatFailsMarksTheClientGone() {
        assertThrows(ClientGate.ClientGone.class, () -> gate.withClient((request, response) -> {
            throw new IOException("broken pipe");
        }));
        assertTrue(gate.clientFailed());
    }

    @Test
    void requestObjectsTomcatRecycledUnderneathEndTheExchangeAndCountItOut() {
        AtomicInteger out = new AtomicInteger();
        gate.countInFlight(() -> { }, out::incrementAndGet);
        client.recycled = true;
        assertFalse(gate.withClient((request, response) -> { }));
        assertTrue(gate.isEnded());
        gate.end(null);
        assertEquals(1, out.get(), "counted out once, by whichever saw the end first");
    }

    @Test
    void anAttemptIsCountedInOnceAndOutOnceWhetherItIsRetriedOrTheExchangeEnds() {
        AtomicInteger in = new AtomicInteger();
        AtomicInteger out = new AtomicInteger();
        gate.countInFlight(in::incrementAndGet, out::incrementAndGet);
        gate.countInFlight(in::incrementAndGet, out::incrementAndGet);
        assertEquals(1, in.get(), "counted in twice for one attempt");
        exchange.retrying(false);
        assertEquals(1, out.get());
        gate.countInFlight(in::incrementAndGet, out::incrementAndGet);
        assertEquals(2, in.get(), "the retry is a new attempt");
        gate.end(null);
        gate.end(null);
        assertEquals(2, out.get());
        gate.countInFlight(in::incrementAndGet, out::incrementAndGet);
        assertEquals(2, in.get(), "counted in after the end");
    }

    @Test
    void theEndWaitsForTomcatsFirstWriteCallbackThenHappensOnceThere() throws Exception {
        ResponseStreamer streamer = new ResponseStreamer(exchange, new ReadyOutput());
        exchange.streamer(streamer);
        AtomicInteger lastWrites = new AtomicInteger();
        gate.complete((request, response) -> lastWrites.incrementAndGet());
        assertEquals(0, lastWrites.get(), "ended before Tomcat's write callback of the cycle");
        assertEquals(0, client.completions);
        streamer.onWritePossible();
        assertEquals(1, lastWrites.get());
        assertEquals(1, client.completions);
        assertTrue(gate.isEnded());
        streamer.onWritePossible();
        gate.completeDeferred();
        assertEquals(1, client.completions, "completed twice");
    }

    @Test
    void withABodyTheEndAlsoWaitsForAllDataReadAndNowDoesNotWait() throws Exception {
        ResponseStreamer streamer = new ResponseStreamer(exchange, new ReadyOutput());
        exchange.streamer(streamer);
        RequestBodyReader reader = new RequestBodyReader(new FinishedInput(), new AsyncRequestContent(),
                failure -> { }, gate::completeDeferred, gate::onTomcatThread);
        exchange.bodyReader(reader);
        streamer.onWritePossible();
        gate.complete((request, response) -> { });
        assertEquals(0, client.completions, "ended before onAllDataRead");
        reader.onAllDataRead();
        assertEquals(1, client.completions);

        RecordingConnection other = new RecordingConnection();
        Exchange urgent = new Exchange(other, "app", new ForwardedTarget("/app/y", false));
        urgent.streamer(new ResponseStreamer(urgent, new ReadyOutput()));
        urgent.gate().complete((request, response) -> { }, true);
        assertEquals(1, other.completions, "an answer that cannot wait did wait");
    }

    @Test
    void aDispatchGoesThroughTomcatsConnectionLockAndNotAfterTheEnd() {
        gate.dispatch();
        assertEquals(1, client.dispatches);
        gate.end(null);
        gate.dispatch();
        assertEquals(1, client.dispatches, "dispatched after the client's exchange ended");
    }

    @Test
    void aTaskForTomcatsThreadsRunsThereUnderTheConnectionLockOnlyWhileOpen() {
        AtomicInteger ran = new AtomicInteger();
        gate.onTomcatThread(() -> {
            assertTrue(client.lock.isHeldByCurrentThread());
            ran.incrementAndGet();
        });
        assertEquals(0, ran.get(), "ran on the caller's thread");
        client.containerTasks.forEach(Runnable::run);
        assertEquals(1, ran.get());
        gate.onTomcatThread(ran::incrementAndGet);
        gate.end(null);
        client.containerTasks.get(1).run();
        assertEquals(1, ran.get(), "a task queued before the end ran after it");
    }
}
