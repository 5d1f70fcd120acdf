package dev.portico.integration;

import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.List;

import jakarta.servlet.ServletException;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.realm.GenericPrincipal;
import org.apache.catalina.valves.ValveBase;

/**
 * For a Tomcat that serves a backend (the WAR runner's embedded Tomcat, or a Spring Boot app's):
 * makes the user the front authenticated Tomcat's own authenticated user, with the roles the
 * front's Realm gave it, before the Context's authenticator runs — so {@code <auth-constraint>}
 * of the app's web.xml is enforced with those roles, as if the front's Realm had authenticated
 * the request here. The client certificate chain becomes {@code jakarta.servlet.request.X509Certificate}.
 * Nothing of it is believed without the one valid pairing token; a request without one goes on
 * untouched, and {@link PorticoFilter} rejects it.
 */
public final class ForwardedUserValve extends ValveBase {

    private final PairingToken token;

    public ForwardedUserValve(String token) {
        super(true);
        this.token = new PairingToken(token);
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        if (request.getPrincipal() == null && PorticoFilter.hasValidToken(request, token)) {
            ForwardedIdentity identity = ForwardedIdentity.of(request);
            if (identity.user() != null) {
                request.setAuthType(ForwardedRequest.AUTH_TYPE);
                request.setUserPrincipal(new GenericPrincipal(identity.user(), List.copyOf(identity.roles()),
                        new PorticoPrincipal(identity.user())));
            }
            X509Certificate[] chain = identity.certificates();
            if (chain != null) {
                request.setAttribute(ForwardedIdentity.CERTIFICATES_ATTRIBUTE, chain);
            }
        }
        getNext().invoke(request, response);
    }
}
