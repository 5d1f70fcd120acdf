package dev.portico.integration;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.logging.Logger;

/**
 * First filter of the app when it runs behind Portico: admits only requests that carry the pairing
 * token, presents them as the client made them at the front (see {@link ForwardedRequest}), and
 * answers Portico's shutdown request.
 */
final class PorticoFilter implements Filter {

    static final String REJECTION_MESSAGE = "missing or invalid Portico pairing token";

    private static final Logger LOG = Logger.getLogger(PorticoFilter.class.getName());

    private final PairingToken token;
    private final ShutdownAction shutdownAction;

    PorticoFilter(PairingToken token, ShutdownAction shutdownAction) {
        this.token = token;
        this.shutdownAction = shutdownAction;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (!(request instanceof HttpServletRequest httpRequest)
                || !(response instanceof HttpServletResponse httpResponse)
                || isAlreadyForwarded(request)) {
            // A FORWARD or INCLUDE of a request this filter already admitted and wrapped.
            chain.doFilter(request, response);
            return;
        }
        if (!hasValidToken(httpRequest)) {
            if (request.getDispatcherType() == DispatcherType.REQUEST) {
                reject(httpRequest, httpResponse);
            } else {
                // An ERROR dispatch for a request that never got past this filter (e.g. one Tomcat
                // refused while parsing): let the error page through, but unwrapped, so nothing
                // from its headers is believed.
                chain.doFilter(request, response);
            }
            return;
        }
        if (isShutdownRequest(httpRequest)) {
            acceptShutdown(httpResponse);
            return;
        }
        chain.doFilter(new ForwardedRequest(httpRequest), response);
    }

    private boolean hasValidToken(HttpServletRequest request) {
        return hasValidToken(request, token);
    }

    static boolean hasValidToken(HttpServletRequest request, PairingToken token) {
        List<String> values = Collections.list(request.getHeaders(BackendContract.TOKEN_HEADER));
        // Portico sends exactly one; two means someone added their own.
        return values.size() == 1 && token.matches(values.get(0));
    }

    private static boolean isAlreadyForwarded(ServletRequest request) {
        return request instanceof ForwardedRequest
                || request instanceof ServletRequestWrapper wrapper
                        && wrapper.isWrapperFor(ForwardedRequest.class);
    }

    private static void reject(HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        LOG.warning(() -> "Rejected " + request.getMethod() + " " + request.getRequestURI()
                + " from " + request.getRemoteAddr() + ": " + REJECTION_MESSAGE);
        writeText(response, HttpServletResponse.SC_BAD_REQUEST, REJECTION_MESSAGE);
    }

    private static boolean isShutdownRequest(HttpServletRequest request) {
        if (request.getDispatcherType() != DispatcherType.REQUEST
                || !"POST".equals(request.getMethod())
                || !BackendContract.SHUTDOWN_EVENT.equalsIgnoreCase(request.getHeader(BackendContract.EVENT_HEADER))) {
            return false;
        }
        String pathInfo = request.getPathInfo();
        String path = request.getServletPath() + (pathInfo == null ? "" : pathInfo);
        return BackendContract.SHUTDOWN_PATH.equals(path);
    }

    private void acceptShutdown(HttpServletResponse response) throws IOException {
        LOG.info("Portico asked this application to shut down");
        writeText(response, HttpServletResponse.SC_ACCEPTED, "shutting down");
        // Commit the answer before anything starts stopping the server underneath it.
        response.flushBuffer();
        shutdownAction.shutdown("shutdown requested by Portico");
    }

    private static void writeText(HttpServletResponse response, int status, String text)
            throws IOException {
        byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("text/plain;charset=UTF-8");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }
}
