package dev.portico.sample;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.io.PrintWriter;

/**
 * {@code ?count=N&intervalMs=M}: N server-sent events {@code data: 1} … {@code data: N}, each flushed
 * on its own, M ms apart — shows whether a proxy passes a stream through or buffers it.
 */
@WebServlet("/sse")
public class SseServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        long count = Parameters.bounded(request, "count", 5, 100_000);
        long intervalMs = Parameters.bounded(request, "intervalMs", 1000, 60_000);
        response.setContentType("text/event-stream;charset=UTF-8");
        response.setHeader("Cache-Control", "no-cache");
        PrintWriter out = response.getWriter();
        for (long n = 1; n <= count; n++) {
            if (n > 1 && !sleep(intervalMs)) {
                return;
            }
            out.write("data: " + n + "\n\n");
            out.flush();
            if (out.checkError()) {
                return; // the client went away
            }
        }
    }

    private static boolean sleep(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
