package dev.portico.arquillian.app;

import java.io.IOException;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebFilter;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/** Marks every request it sees (header and attribute); registered by annotation. */
@WebFilter(urlPatterns = "/*", asyncSupported = true, dispatcherTypes = DispatcherType.REQUEST)
public class TraceFilter extends HttpFilter {

    public static final String ATTRIBUTE = "dev.portico.arquillian.filtered";

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        request.setAttribute(ATTRIBUTE, Boolean.TRUE);
        response.setHeader("X-Filtered", "yes");
        chain.doFilter(request, response);
    }
}
