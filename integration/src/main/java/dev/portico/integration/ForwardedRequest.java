package dev.portico.integration;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;

import java.security.Principal;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;

/**
 * A request whose token Portico vouched for, seen as the client made it at the front Tomcat:
 * scheme, client address, host and port come from the {@code X-Forwarded-*} headers, the user and
 * roles from {@code X-Portico-Principal} and {@code X-Portico-Roles}, the client certificate chain
 * ({@code jakarta.servlet.request.X509Certificate}) from {@code X-Portico-Client-Cert}. Values the headers do not supply (or supply malformed) fall back to
 * the backend connection's own.
 *
 * <p>The context path needs no rewriting: the app is deployed at {@code PORTICO_PATH_BASE} and
 * requests arrive with their full path, so {@code getContextPath()} already is what the client sees
 * ({@code X-Forwarded-Prefix} carries the same value and is not used).
 *
 * <p>The pairing token header is hidden from the application so that no page can echo it back.
 */
final class ForwardedRequest extends HttpServletRequestWrapper {

    static final String AUTH_TYPE = "PORTICO";

    private final String scheme;
    private final String remoteAddr;
    private final String serverName;
    private final int serverPort;
    private final Principal principal;
    private final ForwardedIdentity identity;

    ForwardedRequest(HttpServletRequest request) {
        super(request);
        this.scheme = forwardedScheme(request);
        this.remoteAddr = firstValue(request.getHeader("X-Forwarded-For"));
        HostAndPort host = HostAndPort.parse(request.getHeader("X-Forwarded-Host"));
        this.serverName = host == null ? null : host.name();
        this.serverPort = forwardedPort(host, request.getHeader("X-Forwarded-Port"), getScheme());
        this.identity = ForwardedIdentity.of(request);
        this.principal = identity.user() == null ? null : new PorticoPrincipal(identity.user());
    }

    @Override
    public String getScheme() {
        return scheme != null ? scheme : super.getScheme();
    }

    @Override
    public boolean isSecure() {
        return scheme != null ? scheme.equals("https") : super.isSecure();
    }

    @Override
    public String getRemoteAddr() {
        return remoteAddr != null ? remoteAddr : super.getRemoteAddr();
    }

    /** Never a DNS lookup: the address is what the front saw, as Tomcat does by default. */
    @Override
    public String getRemoteHost() {
        return remoteAddr != null ? remoteAddr : super.getRemoteHost();
    }

    @Override
    public String getServerName() {
        return serverName != null ? serverName : super.getServerName();
    }

    @Override
    public int getServerPort() {
        return serverPort > 0 ? serverPort : super.getServerPort();
    }

    @Override
    public StringBuffer getRequestURL() {
        String currentScheme = getScheme();
        int port = getServerPort();
        StringBuffer url = new StringBuffer(currentScheme).append("://").append(getServerName());
        if (port != defaultPort(currentScheme)) {
            url.append(':').append(port);
        }
        return url.append(getRequestURI());
    }

    @Override
    public Principal getUserPrincipal() {
        return principal != null ? principal : super.getUserPrincipal();
    }

    @Override
    public String getRemoteUser() {
        return principal != null ? principal.getName() : super.getRemoteUser();
    }

    @Override
    public String getAuthType() {
        return principal != null ? AUTH_TYPE : super.getAuthType();
    }

    /**
     * The forwarded user's roles are those the front's Realm gave it ({@code X-Portico-Roles}).
     * When the container itself holds the same user (the WAR runner's {@link ForwardedUserValve}
     * put it there, so that {@code <auth-constraint>} works), the container answers, which also
     * applies the servlet's {@code <security-role-ref>} links.
     */
    @Override
    public boolean isUserInRole(String role) {
        if (principal == null) {
            return super.isUserInRole(role);
        }
        Principal container = super.getUserPrincipal();
        if (container != null && principal.getName().equals(container.getName())) {
            return super.isUserInRole(role);
        }
        // "**" is any authenticated user unless the app declares a role of that name (Servlet 13.3)
        return identity.roles().contains(role) || "**".equals(role);
    }

    /** The client certificate chain the front's TLS connector received, as a container with TLS gives it. */
    @Override
    public Object getAttribute(String name) {
        Object value = super.getAttribute(name);
        if (value == null && ForwardedIdentity.CERTIFICATES_ATTRIBUTE.equals(name)) {
            return identity.certificates();
        }
        return value;
    }

    @Override
    public String getHeader(String name) {
        return isTokenHeader(name) ? null : super.getHeader(name);
    }

    @Override
    public Enumeration<String> getHeaders(String name) {
        return isTokenHeader(name) ? Collections.emptyEnumeration() : super.getHeaders(name);
    }

    @Override
    public Enumeration<String> getHeaderNames() {
        List<String> names = Collections.list(super.getHeaderNames());
        names.removeIf(ForwardedRequest::isTokenHeader);
        return Collections.enumeration(names);
    }

    @Override
    public int getIntHeader(String name) {
        return isTokenHeader(name) ? -1 : super.getIntHeader(name);
    }

    @Override
    public long getDateHeader(String name) {
        return isTokenHeader(name) ? -1L : super.getDateHeader(name);
    }

    static boolean isTokenHeader(String name) {
        return BackendContract.TOKEN_HEADER.equalsIgnoreCase(name);
    }

    private static String forwardedScheme(HttpServletRequest request) {
        String value = firstValue(request.getHeader("X-Forwarded-Proto"));
        if (value == null) {
            return null;
        }
        String scheme = value.toLowerCase(Locale.ROOT);
        return scheme.equals("http") || scheme.equals("https") ? scheme : null;
    }

    /**
     * As the Servlet spec defines getServerPort: the port of the Host header if it has one, else
     * the port the client connected to, else the scheme's default.
     */
    private static int forwardedPort(HostAndPort host, String portHeader, String scheme) {
        if (host == null) {
            return -1;
        }
        if (host.port() > 0) {
            return host.port();
        }
        int port = HostAndPort.parsePort(firstValue(portHeader));
        return port > 0 ? port : defaultPort(scheme);
    }

    private static int defaultPort(String scheme) {
        return "https".equals(scheme) ? 443 : 80;
    }

    /** Portico replaces forwarded headers, so there is one value; be lenient about a list anyway. */
    private static String firstValue(String header) {
        if (header == null) {
            return null;
        }
        int comma = header.indexOf(',');
        String value = (comma < 0 ? header : header.substring(0, comma)).trim();
        return value.isEmpty() ? null : value;
    }

    /** A Host header value: {@code name}, {@code name:port}, {@code [v6]} or {@code [v6]:port}. */
    record HostAndPort(String name, int port) {

        static HostAndPort parse(String header) {
            String value = firstValue(header);
            if (value == null) {
                return null;
            }
            int portSeparator;
            if (value.startsWith("[")) {
                int close = value.indexOf(']');
                if (close < 0) {
                    return null;
                }
                portSeparator = value.indexOf(':', close) == close + 1 ? close + 1 : -1;
            } else {
                portSeparator = value.indexOf(':');
                if (portSeparator != value.lastIndexOf(':')) {
                    return null; // an unbracketed IPv6 address is not a valid Host
                }
            }
            if (portSeparator < 0) {
                return new HostAndPort(value, -1);
            }
            String name = value.substring(0, portSeparator);
            return name.isEmpty() ? null
                    : new HostAndPort(name, parsePort(value.substring(portSeparator + 1)));
        }

        static int parsePort(String value) {
            if (value == null) {
                return -1;
            }
            try {
                int port = Integer.parseInt(value);
                return port > 0 && port <= 65535 ? port : -1;
            } catch (NumberFormatException e) {
                return -1;
            }
        }
    }
}
