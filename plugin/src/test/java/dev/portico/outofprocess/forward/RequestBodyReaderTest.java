package dev.portico.outofprocess.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ReadListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.eclipse.jetty.client.AsyncRequestContent;
import org.eclipse.jetty.io.Content;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RequestBodyReader, as ForwardingServlet wires it, in a plain embedded Tomcat; a test thread
 * plays Jetty's sender (it consumes the AsyncRequestContent and releases its chunks, which
 * is what resumes a paused reader). The only liberty taken: the container thread is held for 300 ms
 * right after RequestBodyReader.onDataAvailable returned (what a preempted thread does), to open
 * the window deterministically.
 *
 * What it guards against (a deadlock the first version had): the Jetty thread that resumes a
 * paused reader reads the end of a chunked body, and Tomcat dispatches onAllDataRead inline,
 * taking its connection lock; a container thread holding that lock must then not wait for the
 * reader.
 */
class RequestBodyReaderTest {

    @Test
    @Timeout(60)
    void pausedChunkedBodyResumedOnAJettyThreadNeitherDeadlocksNorLosesBytes() throws Exception {
        Path base = Files.createTempDirectory("portico-reader-");
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);
        CountDownLatch paused = new CountDownLatch(1);
        AsyncRequestContent[] contentRef = new AsyncRequestContent[1];
        Context ctx = tomcat.addContext("", null);
        org.apache.catalina.Wrapper w = Tomcat.addServlet(ctx, "s", new HttpServlet() {
            @Override
            protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                AsyncContext async = req.startAsync();
                async.setTimeout(0);
                AsyncRequestContent content = new AsyncRequestContent();
                contentRef[0] = content;
                RequestBodyReader reader = new RequestBodyReader(req.getInputStream(), content, failure -> { }, () -> { },
                        task -> req.getAsyncContext().start(task));
                req.getInputStream().setReadListener(new ReadListener() {
                    @Override
                    public void onDataAvailable() throws IOException {
                        reader.onDataAvailable();
                        if (reader.bytesRead() >= RequestBodyReader.PAUSE_AT && paused.getCount() > 0) {
                            paused.countDown();
                            try {
                                Thread.sleep(300); // the container thread, preempted after pump() returned
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                    }

                    @Override
                    public void onAllDataRead() throws IOException {
                        reader.onAllDataRead();
                        async.complete();
                    }

                    @Override
                    public void onError(Throwable t) {
                        reader.onError(t);
                    }
                });
            }
        });
        w.setAsyncSupported(true);
        ctx.addServletMappingDecoded("/*", "s");
        tomcat.start();
        String report = null;
        java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
        CountDownLatch last = new CountDownLatch(1);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), connector.getLocalPort())) {
            OutputStream out = s.getOutputStream();
            // 300 KiB chunked, all sent at once: the reader pauses at 256 KiB with data still available
            StringBuilder head = new StringBuilder("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            byte[] chunk = new byte[10 * 1024];
            for (int i = 0; i < 30; i++) {
                out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            paused.await(10, TimeUnit.SECONDS);
            // Jetty's sender: consume and release chunks (each release runs RequestBodyReader.sent on this thread)
            Thread jetty = new Thread(() -> {
                AsyncRequestContent content = contentRef[0];
                while (true) {
                    Content.Chunk c = content.read();
                    if (c == null) {
                        CountDownLatch more = new CountDownLatch(1);
                        content.demand(more::countDown);
                        try {
                            more.await();
                        } catch (InterruptedException e) {
                            return;
                        }
                        continue;
                    }
                    received.addAndGet(c.remaining());
                    c.release();
                    if (c.isLast()) {
                        last.countDown();
                        return;
                    }
                }
            }, "portico-forward-simulated");
            jetty.setDaemon(true);
            jetty.start();
            Thread.sleep(2000);
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            long[] ids = mx.findDeadlockedThreads();
            if (ids != null) {
                StringBuilder b = new StringBuilder();
                for (ThreadInfo info : mx.getThreadInfo(ids, true, true)) {
                    b.append(info.getThreadName()).append(" waits for ").append(info.getLockName()).append(" held by ")
                            .append(info.getLockOwnerName()).append('\n');
                    for (StackTraceElement f : info.getStackTrace()) {
                        if (f.getClassName().startsWith("java.util.concurrent") || f.getClassName().startsWith("jdk.internal")) {
                            continue;
                        }
                        b.append("    at ").append(f).append('\n');
                        if (f.getClassName().startsWith("org.apache.tomcat.util.threads") || f.getMethodName().equals("run")
                                && f.getClassName().contains("ReviewReader")) {
                            break;
                        }
                    }
                }
                report = b.toString();
                System.out.println("[reader] DEADLOCK\n" + report);
            }
            assertNull(report, "deadlock between the reader and Tomcat's connection lock");
            assertTrue(last.await(10, TimeUnit.SECONDS), "the body never ended: " + received + " bytes");
            assertEquals(30 * 10 * 1024, received.get());
        } finally {
            if (report == null) {
                // deadlocked threads would never end: only a clean run waits for Tomcat's stop
                tomcat.stop();
                tomcat.destroy();
            }
        }
    }
}
