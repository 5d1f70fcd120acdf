package dev.portico.sample;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;

/**
 * A redirect to {@code /info}: {@code sendRedirect("info")} as most servlets write it (Tomcat makes
 * it a path, {@code useRelativeRedirects}), or with {@code ?absolute=true} an absolute URL built
 * from {@code getRequestURL()}, as frameworks that build links do.
 */
@WebServlet("/redirect")
public class RedirectServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (Boolean.parseBoolean(request.getParameter("absolute"))) {
            String url = request.getRequestURL().toString();
            response.sendRedirect(url.substring(0, url.lastIndexOf('/') + 1) + "info");
        } else {
            response.sendRedirect("info");
        }
    }
}
