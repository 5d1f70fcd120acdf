package dev.portico.arquillian.app;

import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/** Throws, or sends an error status, for the app's error pages to handle. */
@WebServlet({"/boom", "/teapot"})
public class FailingServlet extends HttpServlet {

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws ServletException, java.io.IOException {
        if (request.getServletPath().equals("/teapot")) {
            response.sendError(418, "short and stout");
            return;
        }
        throw new ServletException("boom from the hosted app");
    }
}
