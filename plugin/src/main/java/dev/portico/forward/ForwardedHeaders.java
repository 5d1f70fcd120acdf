package dev.portico.forward;

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

    /** True for a header a client must not be able to send to a backend. */
    static boolean isManaged(String name) {
        return isManagedLowerCase(name.toLowerCase(Locale.ROOT));
    }

    /** {@link #isManaged} for a name already in lower case. */
    static boolean isManagedLowerCase(String lower) {
        return lower.startsWith("x-forwarded-") || lower.startsWith("x-portico-") || lower.equals("forwarded")
                || lower.startsWith("x-original-");
    }

    static void set(HttpServletRequest client, Request forwarded, String token, String contextPath, boolean forwardPrincipal) {
        String host = client.getHeader("Host");
        String user = forwardPrincipal ? client.getRemoteUser() : null;
        forwarded.headers(headers -> {
            headers.put(TOKEN, token);
            headers.put("X-Forwarded-For", client.getRemoteAddr());
            headers.put("X-Forwarded-Proto", client.getScheme());
            if (host != null) {
                headers.put("X-Forwarded-Host", host);
            }
            headers.put("X-Forwarded-Port", Integer.toString(client.getServerPort()));
            if (!contextPath.isEmpty()) {
                headers.put("X-Forwarded-Prefix", contextPath);
            }
            if (user != null) {
                headers.put(PRINCIPAL, user);
            }
        });
    }
}
