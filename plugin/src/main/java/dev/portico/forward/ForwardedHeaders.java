package dev.portico.forward;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import jakarta.servlet.http.HttpServletRequest;

import org.eclipse.jetty.client.Request;

/**
 * The headers Portico owns on a forwarded request. The client's copies are removed and
 * Portico's own values set, never appended: an appended {@code X-Forwarded-For} lets any client
 * choose the address the backend believes (ANCM's known weakness).
 */
final class ForwardedHeaders {

    static final String TOKEN = "X-Portico-Token";
    static final String PRINCIPAL = "X-Portico-Principal";

    private ForwardedHeaders() {
    }

    /**
     * True for a header a client must not be able to send to a backend: Portico's own, the
     * forwarding family (also {@code X-Real-IP}, which many frameworks trust as the client
     * address), and any spelling with underscores for dashes, which CGI, WSGI and Rack servers
     * read as the same header (nginx drops such names for this reason).
     */
    static boolean isManaged(String name) {
        return isManagedLowerCase(name.toLowerCase(Locale.ROOT));
    }

    /** {@link #isManaged} for a name already in lower case. */
    static boolean isManagedLowerCase(String lower) {
        String dashed = lower.indexOf('_') < 0 ? lower : lower.replace('_', '-');
        return dashed.startsWith("x-forwarded-") || dashed.startsWith("x-portico-") || dashed.equals("forwarded")
                || dashed.startsWith("x-original-") || dashed.equals("x-real-ip");
    }

    static void set(HttpServletRequest client, Request forwarded, String token, String contextPath, boolean forwardPrincipal) {
        List<String[]> values = values(client, token, contextPath, forwardPrincipal);
        forwarded.headers(headers -> {
            for (String[] header : values) {
                headers.put(header[0], header[1]);
            }
        });
    }

    /** Name and value of every header Portico sets on a request it forwards. */
    static List<String[]> values(HttpServletRequest client, String token, String contextPath, boolean forwardPrincipal) {
        List<String[]> values = new ArrayList<>(7);
        values.add(new String[] {TOKEN, token});
        values.add(new String[] {"X-Forwarded-For", client.getRemoteAddr()});
        values.add(new String[] {"X-Forwarded-Proto", client.getScheme()});
        String host = client.getHeader("Host");
        if (host != null) {
            values.add(new String[] {"X-Forwarded-Host", host});
        }
        // the port the client connected to, never the Host header's, which the client chooses
        values.add(new String[] {"X-Forwarded-Port", Integer.toString(client.getLocalPort())});
        if (!contextPath.isEmpty()) {
            values.add(new String[] {"X-Forwarded-Prefix", contextPath});
        }
        String user = forwardPrincipal ? client.getRemoteUser() : null;
        if (user != null) {
            values.add(new String[] {PRINCIPAL, user});
        }
        return values;
    }
}
