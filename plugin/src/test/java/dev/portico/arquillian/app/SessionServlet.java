package dev.portico.arquillian.app;

import java.io.IOException;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;

/** Counts the requests of a session. */
@WebServlet("/session")
public class SessionServlet extends HttpServlet {

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        HttpSession session = request.getSession();
        Integer count = (Integer) session.getAttribute("count");
        count = count == null ? 1 : count + 1;
        session.setAttribute("count", count);
        response.setContentType("text/plain");
        response.getWriter().print("count=" + count + " id=" + session.getId() + " new=" + session.isNew());
    }
}
