package dev.portico.arquillian.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Starts async processing and finishes it on a thread of its own pool: {@code mode=complete}
 * writes and calls {@code complete()} there, {@code mode=dispatch} dispatches to the info servlet.
 */
@WebServlet(urlPatterns = "/async", asyncSupported = true)
public class AsyncServlet extends HttpServlet {

    private ExecutorService pool;

    @Override
    public void init() {
        pool = Executors.newFixedThreadPool(2, runnable -> {
            Thread thread = new Thread(runnable, "app-async");
            thread.setDaemon(true);
            return thread;
        });
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) {
        String requestThread = Thread.currentThread().getName();
        AsyncContext async = request.startAsync();
        async.setTimeout(10_000);
        boolean dispatch = "dispatch".equals(request.getParameter("mode"));
        pool.execute(() -> {
            try {
                Thread.sleep(50); // the container thread has returned by now
                if (dispatch) {
                    async.dispatch("/info/after-async");
                    return;
                }
                HttpServletResponse resp = (HttpServletResponse) async.getResponse();
                resp.setContentType("text/plain");
                resp.getWriter().print("completed on " + Thread.currentThread().getName()
                        + " started on other thread " + !requestThread.equals(Thread.currentThread().getName()));
                async.complete();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    @Override
    public void destroy() {
        pool.shutdownNow();
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
