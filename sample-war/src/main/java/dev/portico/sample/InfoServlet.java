package dev.portico.sample;

import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What hosting did: the request as the application sees it, the hosting model, the pid, and the
 * settings named by {@code ?env=A,B}. A browser asking for the context root gets welcome.html instead.
 */
@WebServlet(urlPatterns = {"", "/info"})
public class InfoServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException, ServletException {
        String accept = request.getHeader("Accept");
        if (request.getServletPath().isEmpty() && accept != null && accept.contains("text/html")) {
            // a browser at the context root gets the welcome page; scripts keep the JSON
            request.getRequestDispatcher("/welcome.html").forward(request, response);
            return;
        }
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("scheme", request.getScheme());
        info.put("secure", request.isSecure());
        info.put("remoteAddr", request.getRemoteAddr());
        info.put("serverName", request.getServerName());
        info.put("serverPort", request.getServerPort());
        info.put("contextPath", request.getContextPath());
        info.put("requestURI", request.getRequestURI());
        info.put("requestURL", request.getRequestURL().toString());
        info.put("principal", request.getRemoteUser());
        info.put("authType", request.getAuthType());
        info.put("inRole", roles(request, request.getParameter("roles")));
        info.put("clientCertificate", clientCertificate(request));
        info.put("hostingModel", Settings.hostingModel(getServletContext()));
        info.put("pid", ProcessHandle.current().pid());
        info.put("env", requestedSettings(request.getParameter("env")));
        Json.send(response, info);
    }

    /** For each role named in {@code roles=a,b}: whether the user is in it. */
    private static Map<String, Object> roles(HttpServletRequest request, String names) {
        Map<String, Object> roles = new LinkedHashMap<>();
        if (names != null) {
            for (String name : names.split(",")) {
                if (!name.isBlank()) {
                    roles.put(name.trim(), request.isUserInRole(name.trim()));
                }
            }
        }
        return roles;
    }

    /** The subject of the client's TLS certificate, or null. */
    private static String clientCertificate(HttpServletRequest request) {
        Object chain = request.getAttribute("jakarta.servlet.request.X509Certificate");
        return chain instanceof java.security.cert.X509Certificate[] certificates && certificates.length > 0
                ? certificates[0].getSubjectX500Principal().getName() : null;
    }

    private Map<String, Object> requestedSettings(String names) {
        Map<String, Object> settings = new LinkedHashMap<>();
        if (names == null) {
            return settings;
        }
        for (String name : names.split(",")) {
            String trimmed = name.trim();
            if (!trimmed.isEmpty()) {
                settings.put(trimmed, Settings.TOKEN.equals(trimmed) ? null
                        : Settings.lookup(getServletContext(), trimmed));
            }
        }
        return settings;
    }
}
