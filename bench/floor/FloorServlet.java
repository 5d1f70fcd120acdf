import java.io.IOException;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The benchmark's floor: the front Tomcat answering the nginx backend's 23 bytes itself, with
 * the headers Portico's forwarded answer carries, so that the difference between the two is
 * the cost of forwarding alone. bench/run.sh compiles it into webapps/floor.
 */
public class FloorServlet extends HttpServlet {

    private static final byte[] BODY = "hello from the backend\n".getBytes(StandardCharsets.US_ASCII);

    private String server;

    @Override
    public void init() {
        server = getInitParameter("server");
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setContentType("text/plain");
        response.setContentLength(BODY.length);
        response.setHeader("Server", server);
        response.getOutputStream().write(BODY);
    }
}
