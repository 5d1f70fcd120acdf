package dev.portico.arquillian.app;

import java.io.IOException;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/** The error page of web.xml: what the container told it about the error. */
@WebServlet("/error-page")
public class ErrorPageServlet extends HttpServlet {

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Throwable exception = (Throwable) request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
        response.setContentType("text/plain");
        response.getWriter().print("error page " + request.getDispatcherType()
                + " status=" + request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE)
                + " uri=" + request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI)
                + " message=" + request.getAttribute(RequestDispatcher.ERROR_MESSAGE)
                + " exception=" + (exception == null ? null : exception.getMessage()));
    }
}
