package dev.portico.integration.testapp;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.io.PrintWriter;

/** Reports, one {@code key=value} per line, what the application sees of a request. */
@WebServlet("/info")
public class RequestInfoServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setContentType("text/plain;charset=UTF-8");
        PrintWriter out = response.getWriter();
        out.println("scheme=" + request.getScheme());
        out.println("secure=" + request.isSecure());
        out.println("remoteAddr=" + request.getRemoteAddr());
        out.println("remoteHost=" + request.getRemoteHost());
        out.println("serverName=" + request.getServerName());
        out.println("serverPort=" + request.getServerPort());
        out.println("requestURL=" + request.getRequestURL());
        out.println("contextPath=" + request.getContextPath());
        out.println("remoteUser=" + request.getRemoteUser());
        out.println("principal=" + (request.getUserPrincipal() == null ? null
                : request.getUserPrincipal().getName()));
        out.println("authType=" + request.getAuthType());
        out.println("tokenHeader=" + request.getHeader("X-Portico-Token"));
        out.println("inRole.user=" + request.isUserInRole("user"));
        out.println("inRole.admin=" + request.isUserInRole("admin"));
        out.println("inRole.a,b=" + request.isUserInRole("a,b"));
        out.println("shutdowns=" + ShutdownRecorder.count());
    }
}
