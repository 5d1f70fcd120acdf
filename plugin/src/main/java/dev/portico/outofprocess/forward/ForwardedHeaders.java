package dev.portico.outofprocess.forward;

import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import jakarta.servlet.http.HttpServletRequest;

import org.eclipse.jetty.client.Request;

import dev.portico.config.AppConfig;
import dev.portico.integration.BackendContract;
import dev.portico.outofprocess.backend.BackendAddress;

/**
 * The headers Portico owns on a forwarded request. The client's copies are removed and
 * Portico's own values set, never appended: an appended {@code X-Forwarded-For} lets any client
 * choose the address the backend believes (ANCM's known weakness).
 */
public final class ForwardedHeaders {


    /**
     * Never copied from a client's request to a backend: the hop-by-hop headers (RFC 9110,
     * 7.6.1), {@code Host} (Portico sets it), {@code Expect} (the front answers it) and
     * {@code Proxy} (CGI-style backends take it for their own outgoing proxy: "httpoxy").
     */
    static final Set<String> NOT_COPIED = Set.of("connection", "keep-alive", "proxy-connection", "proxy-authorization",
            "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade", "host", "expect", "proxy");

    private ForwardedHeaders() {
    }

    /**
     * True for a header a client must not be able to send to a backend: Portico's own, the
     * forwarding family (also {@code X-Real-IP}, which many frameworks trust as the client
     * address), {@code SCRIPT_NAME} (gunicorn 20 takes it from a request header over its
     * environment: a client would choose the app's path base, or make every request a 500), and
     * any spelling with underscores for dashes, which CGI, WSGI and Rack servers read as the same
     * header (nginx drops such names for this reason).
     */
    public static boolean isManaged(String name) {
        return isManagedLowerCase(name.toLowerCase(Locale.ROOT));
    }

    /**
     * Whether the client's header {@code lower} (its name in lower case) goes to the backend: not
     * one of {@link #NOT_COPIED}, not one Portico owns, not one the client's {@code Connection}
     * names (hop-by-hop by its own word).
     */
    static boolean copied(String lower, Set<String> connectionTokens) {
        return !NOT_COPIED.contains(lower) && !isManagedLowerCase(lower) && !connectionTokens.contains(lower);
    }

    /** The header names the client's {@code Connection} lists, in lower case. */
    static Set<String> connectionTokens(HttpServletRequest request) {
        Enumeration<String> values = request.getHeaders("Connection");
        if (!values.hasMoreElements()) {
            return Set.of();
        }
        Set<String> tokens = new HashSet<>();
        while (values.hasMoreElements()) {
            for (String token : values.nextElement().split(",")) {
                tokens.add(token.trim().toLowerCase(Locale.ROOT));
            }
        }
        return tokens;
    }

    /** {@link #isManaged} for a name already in lower case. */
    static boolean isManagedLowerCase(String lower) {
        String dashed = lower.indexOf('_') < 0 ? lower : lower.replace('_', '-');
        return dashed.startsWith("x-forwarded-") || dashed.startsWith("x-portico-") || dashed.equals("forwarded")
                || dashed.startsWith("x-original-") || dashed.equals("x-real-ip") || dashed.equals("script-name");
    }

    static void set(HttpServletRequest client, Request forwarded, AppConfig config, String contextPath, BackendAddress backend,
            String token) {
        List<String[]> values = values(client, config, contextPath, backend, token);
        // added, not put: the client's copies of these headers were not copied (isManaged), and a
        // put scans every field for each one
        forwarded.headers(headers -> {
            for (String[] header : values) {
                headers.add(header[0], header[1]);
            }
        });
    }

    /**
     * Name and value of every header Portico sets on a request it forwards, {@code Host} first:
     * the authority the client addressed (as ANCM preserves it, so that a framework building
     * absolute URLs from {@code Host} points at the front), or with {@code preserveHostHeader}
     * off the backend's own loopback address.
     */
    static List<String[]> values(HttpServletRequest client, AppConfig config, String contextPath, BackendAddress backend,
            String token) {
        List<String[]> values = new ArrayList<>(8);
        String authority = clientAuthority(client);
        values.add(new String[] {"Host", config.preserveHostHeader() && authority != null
                ? authority : backend.isUnix() ? "localhost" : backend.toString()});
        values.add(new String[] {BackendContract.TOKEN_HEADER, token});
        values.add(new String[] {"X-Forwarded-For", client.getRemoteAddr()});
        values.add(new String[] {"X-Forwarded-Proto", client.getScheme()});
        if (authority != null) {
            values.add(new String[] {"X-Forwarded-Host", authority});
        }
        // the port the client connected to, never the Host header's, which the client chooses
        values.add(new String[] {"X-Forwarded-Port", Integer.toString(client.getLocalPort())});
        if (!contextPath.isEmpty()) {
            values.add(new String[] {"X-Forwarded-Prefix", contextPath});
        }
        String user = config.forwardPrincipal() ? client.getRemoteUser() : null;
        if (user != null) {
            values.add(new String[] {BackendContract.PRINCIPAL_HEADER, user});
            Exchange exchange = Exchange.of(client);
            String roles = exchange == null ? null : FrontIdentity.roles(exchange.authenticatedPrincipal());
            if (roles != null) {
                values.add(new String[] {BackendContract.ROLES_HEADER, roles});
            }
        }
        String certificates = FrontIdentity.clientCertificates(client);
        if (certificates != null) {
            values.add(new String[] {BackendContract.CLIENT_CERT_HEADER, certificates});
        }
        return values;
    }

    /**
     * The authority the client addressed, from the server name and port the front resolved
     * rather than from the {@code Host} header: an HTTP/2 request has none (its {@code :authority}
     * becomes the server name and port), and a {@code RemoteIpValve} or the connector's
     * {@code proxyName}/{@code proxyPort} change what the front and a webapp see. The port is left
     * out when it is the scheme's default, as a client writes it. Null when the request named no
     * host (HTTP/1.0 without {@code Host}).
     */
    static String clientAuthority(HttpServletRequest client) {
        String name = client.getServerName();
        if (name == null || name.isEmpty()) {
            return null;
        }
        int port = client.getServerPort();
        int defaultPort = "https".equals(client.getScheme()) ? 443 : 80;
        return port <= 0 || port == defaultPort ? name : name + ":" + port;
    }
}
