package dev.portico.arquillian.app;

import java.io.IOException;

import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/** {@code /forward} forwards to the info servlet; {@code /include} includes a servlet and a JSP. */
@WebServlet({"/forward", "/include"})
public class DispatchServlet extends HttpServlet {

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
            throws IOException, ServletException {
        if (request.getServletPath().equals("/forward")) {
            request.getRequestDispatcher("/info/forwarded").forward(request, response);
            return;
        }
        response.setContentType("text/plain");
        response.getWriter().print("before|");
        request.getRequestDispatcher("/included").include(request, response);
        response.getWriter().print("|");
        request.getRequestDispatcher("/hello.jsp").include(request, response);
        response.getWriter().print("|after");
    }
}
