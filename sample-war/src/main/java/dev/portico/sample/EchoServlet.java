package dev.portico.sample;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Any method: what arrived — method, query, headers, and the body's length and SHA-256. */
@WebServlet("/echo")
public class EchoServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    /** Overrides service() rather than doXxx() so that every method, PATCH or made-up, is echoed. */
    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Map<String, Object> headers = new LinkedHashMap<>();
        for (String name : Collections.list(request.getHeaderNames())) {
            headers.put(name, Collections.list(request.getHeaders(name)));
        }
        Digests body = Digests.of(request.getInputStream());

        Map<String, Object> echo = new LinkedHashMap<>();
        echo.put("method", request.getMethod());
        echo.put("queryString", request.getQueryString());
        echo.put("headers", headers);
        echo.put("bodyLength", body.length());
        echo.put("bodySha256", body.sha256());
        Json.send(response, echo);
    }
}
