package dev.portico.outofprocess.forward;

import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.StringJoiner;

import jakarta.servlet.http.HttpServletRequest;

import org.apache.catalina.realm.GenericPrincipal;
import org.apache.catalina.util.URLEncoder;

/**
 * What the front knows about who the client is, in the form the backend contract forwards it (see
 * docs/backend-contract.md): the roles the front's Realm gave the authenticated user and the
 * client's TLS certificate chain. The backend believes either only on a request whose pairing
 * token is valid; client copies of the headers are dropped with every other {@code X-Portico-*}.
 */
final class FrontIdentity {


    private static final String CERTIFICATES_ATTRIBUTE = "jakarta.servlet.request.X509Certificate";
    /** RFC 3986 unreserved characters stay as they are; everything else, the comma included, is %XX of UTF-8. */
    private static final URLEncoder ROLE_ENCODER = new URLEncoder();

    static {
        for (char c : "-._~".toCharArray()) {
            ROLE_ENCODER.addSafeCharacter(c);
        }
    }

    private FrontIdentity() {
    }

    /**
     * The roles of the user Tomcat authenticated, comma-separated, each percent-encoded; null when
     * no user is authenticated or the Realm's principal carries no role list. Tomcat's Realms all
     * return a {@link GenericPrincipal}, whose role list is what their {@code hasRole} consults.
     *
     * @param authenticated the principal Tomcat holds internally ({@code Request.getPrincipal()}),
     *                      not the one an application sees, which a JAAS Realm replaces
     */
    static String roles(Principal authenticated) {
        if (!(authenticated instanceof GenericPrincipal generic)) {
            return null;
        }
        StringJoiner roles = new StringJoiner(",");
        for (String role : generic.getRoles()) {
            roles.add(ROLE_ENCODER.encode(role, StandardCharsets.UTF_8));
        }
        return roles.toString();
    }

    /**
     * The client's certificate chain as TLS gave it to Tomcat (client first), each certificate
     * base64 DER, comma-separated; null without one. Only a secure request is asked, so a plain
     * one never makes Tomcat look for TLS attributes.
     */
    static String clientCertificates(HttpServletRequest client) {
        if (!client.isSecure() || !(client.getAttribute(CERTIFICATES_ATTRIBUTE) instanceof X509Certificate[] chain)
                || chain.length == 0) {
            return null;
        }
        StringJoiner encoded = new StringJoiner(",");
        for (X509Certificate certificate : chain) {
            try {
                encoded.add(Base64.getEncoder().encodeToString(certificate.getEncoded()));
            } catch (CertificateEncodingException e) {
                return null; // a chain Tomcat parsed is encodable; never forward part of one
            }
        }
        return encoded.toString();
    }
}
