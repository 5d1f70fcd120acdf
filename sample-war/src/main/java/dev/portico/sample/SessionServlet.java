package dev.portico.sample;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** A per-session counter: shows that cookies and the session survive the hosting path. */
@WebServlet("/session")
public class SessionServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final String COUNT = "dev.portico.sample.count";

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (request.getParameter("peek") != null) {
            peek(request, response);
            return;
        }
        HttpSession session = request.getSession();
        Integer previous = (Integer) session.getAttribute(COUNT);
        int count = previous == null ? 1 : previous + 1;
        session.setAttribute(COUNT, count);
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("count", count);
        answer.put("sessionId", session.getId());
        Json.send(response, answer);
    }

    /** {@code ?peek}: the counter as it is, without counting or creating a session (0 without one). */
    private static void peek(HttpServletRequest request, HttpServletResponse response) throws IOException {
        HttpSession session = request.getSession(false);
        Integer count = session == null ? null : (Integer) session.getAttribute(COUNT);
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("count", count == null ? 0 : count);
        answer.put("sessionId", session == null ? null : session.getId());
        Json.send(response, answer);
    }
}
