package dev.portico.arquillian.app;

import java.io.IOException;
import java.io.PrintWriter;
import java.security.CodeSource;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/** What the app sees of a request, one {@code key=value} a line. */
@WebServlet(urlPatterns = "/info/*", asyncSupported = true)
public class InfoServlet extends HttpServlet {

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setContentType("text/plain;charset=UTF-8");
        PrintWriter out = response.getWriter();
        out.println("contextPath=" + request.getContextPath());
        out.println("requestURI=" + request.getRequestURI());
        out.println("servletPath=" + request.getServletPath());
        out.println("pathInfo=" + request.getPathInfo());
        out.println("dispatcher=" + request.getDispatcherType());
        out.println("forwardRequestURI=" + request.getAttribute(RequestDispatcher.FORWARD_REQUEST_URI));
        out.println("filtered=" + request.getAttribute(TraceFilter.ATTRIBUTE));
        out.println("events=" + getServletContext().getAttribute(AppListener.EVENTS));
        out.println("requests=" + getServletContext().getAttribute(AppListener.REQUESTS));
        out.println("serverName=" + request.getServerName());
        out.println("localPort=" + request.getLocalPort());
        out.println("hostingModel=" + getServletContext().getInitParameter("portico.hostingModel"));
        // which loader served this class: the hosted app's (WEB-INF/classes), not the test classpath's
        ClassLoader loader = getClass().getClassLoader();
        out.println("loader=" + loader.getClass().getName());
        out.println("loaderIsContexts=" + (loader == getServletContext().getClassLoader()));
        out.println("loaderIsThreads=" + (loader == Thread.currentThread().getContextClassLoader()));
        CodeSource source = getClass().getProtectionDomain().getCodeSource();
        out.println("codeSource=" + (source == null ? null : source.getLocation()));
        out.println("servletContextClass=" + getServletContext().getClass().getName());
    }
}
