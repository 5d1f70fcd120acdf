package dev.portico.status;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.Arrays;
import java.util.List;

import jakarta.servlet.http.HttpServletResponse;

import org.apache.catalina.Host;
import org.apache.catalina.Realm;
import org.apache.catalina.authenticator.BasicAuthenticator.BasicCredentials;
import org.apache.catalina.connector.Request;
import org.apache.tomcat.util.buf.MessageBytes;

/**
 * Who may read the status page: clients on the loopback interface always; others only when the
 * operator named roles ({@code statusRoles}) and they log in (HTTP Basic) as a user of the
 * Host's realm who has one of them. Without roles the page does not exist for anyone else: its
 * path is an ordinary request of the Host, as before.
 */
public final class StatusAccess {

    public enum Decision {
        /** Answer with the page. */
        SERVE,
        /** Not the page for this client: the request goes on down the pipeline. */
        PASS,
        /** Answered with 401 (log in) or 403 (a user without the role). */
        REFUSED
    }

    private final Host host;
    private final List<String> roles;

    /** @param roles comma-separated role names; blank for loopback only */
    public StatusAccess(Host host, String roles) {
        this.host = host;
        this.roles = roles == null ? List.of()
                : Arrays.stream(roles.split(",")).map(String::trim).filter(r -> !r.isEmpty()).toList();
    }

    public Decision decide(Request request, HttpServletResponse response) throws IOException {
        if (isLoopback(request.getRemoteAddr())) {
            return Decision.SERVE;
        }
        if (roles.isEmpty()) {
            return Decision.PASS;
        }
        Realm realm = host.getRealm();
        Principal user = realm == null ? null : authenticate(request, realm);
        if (user == null) {
            response.setHeader("WWW-Authenticate", "Basic realm=\"Portico status\", charset=\"UTF-8\"");
            response.sendError(HttpServletResponse.SC_UNAUTHORIZED);
            return Decision.REFUSED;
        }
        for (String role : roles) {
            if (realm.hasRole(null, user, role)) {
                return Decision.SERVE;
            }
        }
        response.sendError(HttpServletResponse.SC_FORBIDDEN);
        return Decision.REFUSED;
    }

    private static Principal authenticate(Request request, Realm realm) {
        MessageBytes authorization = request.getCoyoteRequest().getMimeHeaders().getValue("authorization");
        if (authorization == null || !authorization.startsWithIgnoreCase("basic ", 0)) {
            return null;
        }
        authorization.toBytes();
        try {
            BasicCredentials credentials = new BasicCredentials(authorization.getByteChunk(), StandardCharsets.UTF_8);
            return realm.authenticate(credentials.getUsername(), credentials.getPassword());
        } catch (IllegalArgumentException e) {
            return null; // not valid Basic credentials: asked to log in again
        }
    }

    static boolean isLoopback(String address) {
        return address != null && (address.startsWith("127.") || address.equals("::1")
                || address.equals("0:0:0:0:0:0:0:1"));
    }
}
