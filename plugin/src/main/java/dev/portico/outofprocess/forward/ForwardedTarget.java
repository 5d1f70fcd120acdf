package dev.portico.outofprocess.forward;

import java.nio.charset.Charset;
import java.util.Locale;

import org.apache.catalina.connector.Request;

import dev.portico.integration.BackendContract;

/**
 * The path and query a forwarded request asks the backend for.
 *
 * <p>The front routes on Tomcat's normalised path (decoded, path parameters removed, {@code .}
 * and {@code ..} resolved, {@code //} collapsed). Forwarding the client's raw spelling instead
 * would let {@code /a/..;/b/x} be routed to app {@code a} while a's backend, which normalises
 * differently, serves {@code /b/x}. So the backend receives exactly the path the front routed,
 * percent-encoded again in the connector's URI charset: every segment inside the app's base,
 * no dot segments, no empty segments, no path parameters, no encoded slash or dot that a
 * backend could decode into one. The one path parameter kept is a URL-rewritten session id
 * ({@code ;jsessionid=}), which Java backends need. The query goes as the client sent it.
 */
record ForwardedTarget(String target, boolean reserved) {

    /** Portico's own path below every app (the shutdown message); no client request may reach it. */

    static ForwardedTarget of(Request request, String contextPath) {
        String path = request.getDecodedRequestURI();
        if (path == null || path.isEmpty()) {
            path = "/";
        }
        String below = path.length() > contextPath.length() ? path.substring(contextPath.length()) : "/";
        String lower = below.toLowerCase(Locale.ROOT);
        boolean reserved = lower.equals(BackendContract.RESERVED_PATH) || lower.startsWith(BackendContract.RESERVED_PATH + "/");
        StringBuilder target = new StringBuilder(path.length() + 16);
        encode(path, request.getConnector().getURICharset(), target);
        String session = request.getPathParameter("jsessionid");
        if (session != null) {
            target.append(";jsessionid=");
            encode(session, request.getConnector().getURICharset(), target);
        }
        String query = request.getQueryString();
        if (query != null) {
            target.append('?').append(query);
        }
        return new ForwardedTarget(target.toString(), reserved);
    }

    /** Percent-encodes all but RFC 3986's unreserved characters, '/' and the sub-delimiters that never separate a path (';' does). */
    private static void encode(String decoded, Charset charset, StringBuilder out) {
        for (int i = 0; i < decoded.length(); i++) {
            char c = decoded.charAt(i);
            if (c < 0x80 && isKept(c)) {
                out.append(c);
            } else {
                int end = i + 1;
                if (Character.isHighSurrogate(c) && end < decoded.length()) {
                    end++;
                }
                for (byte b : decoded.substring(i, end).getBytes(charset)) {
                    out.append('%').append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
                }
                i = end - 1;
            }
        }
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private static boolean isKept(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "-._~/!$&'()*+,=:@".indexOf(c) >= 0;
    }
}
