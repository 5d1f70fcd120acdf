package dev.portico.integration.runner;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;

/**
 * Stands in for Jasper's JspServlet when Jasper is not on the runner's classpath: a JSP request gets
 * a clear 501 instead of a class-loading error, and never the JSP's source from the default servlet.
 */
public final class JspUnavailableServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        response.sendError(HttpServletResponse.SC_NOT_IMPLEMENTED,
                "JSP support (tomcat-embed-jasper) is not on the Portico WAR runner's classpath");
    }
}
