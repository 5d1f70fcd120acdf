package dev.portico.sample;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.util.Map;

/**
 * POST: kills this JVM (status 3) right after answering 202, to show Portico's crash handling.
 *
 * <p>Only when {@code PORTICO_SAMPLE_ALLOW_CRASH} is {@code true} and the hosting model is
 * {@code outOfProcess}: in-process, or anywhere the model is unknown, this JVM may be the front
 * Tomcat itself.
 */
@WebServlet("/crash")
public class CrashServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    static final int EXIT_STATUS = 3;

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String hostingModel = Settings.hostingModel(getServletContext());
        boolean allowed = "true".equalsIgnoreCase(Settings.lookup(getServletContext(), Settings.ALLOW_CRASH))
                && "outOfProcess".equals(hostingModel);
        if (!allowed) {
            Json.send(response, HttpServletResponse.SC_FORBIDDEN, Map.of("error",
                    "crash needs " + Settings.ALLOW_CRASH + "=true and the outOfProcess hosting model",
                    "hostingModel", hostingModel));
            return;
        }
        Json.send(response, HttpServletResponse.SC_ACCEPTED,
                Map.of("crashing", true, "pid", ProcessHandle.current().pid()));
        response.flushBuffer();
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(100); // let the answer leave the socket
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Runtime.getRuntime().halt(EXIT_STATUS);
        }, "sample-crash");
        halt.start();
    }
}
