package dev.portico.arquillian.app;

import java.io.IOException;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/** The target of an include: it sees the include attributes and the original request URI. */
@WebServlet("/included")
public class IncludedServlet extends HttpServlet {

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        // an included servlet cannot set headers: this one must be ignored
        response.setHeader("X-Included", "should-not-appear");
        response.getWriter().print("included " + request.getDispatcherType() + " "
                + request.getAttribute(RequestDispatcher.INCLUDE_SERVLET_PATH) + " from " + request.getRequestURI());
    }
}
