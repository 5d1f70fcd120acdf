package dev.portico.integration;

import java.io.ByteArrayInputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Who the front Tomcat says the client is: the user it authenticated with the roles its Realm
 * gave that user, and the client's TLS certificate chain. Read from Portico's headers, which mean
 * something only on a request whose pairing token is valid (the caller checks that first).
 */
final class ForwardedIdentity {

    static final String CERTIFICATES_ATTRIBUTE = "jakarta.servlet.request.X509Certificate";

    private final String user;
    private final Set<String> roles;
    private final String certificateHeader;
    private X509Certificate[] certificates;
    private boolean certificatesParsed;

    private ForwardedIdentity(String user, Set<String> roles, String certificateHeader) {
        this.user = user;
        this.roles = roles;
        this.certificateHeader = certificateHeader;
    }

    static ForwardedIdentity of(HttpServletRequest request) {
        String user = request.getHeader(BackendContract.PRINCIPAL_HEADER);
        if (user != null && user.isEmpty()) {
            user = null;
        }
        Set<String> roles = user == null ? Set.of() : roles(request.getHeader(BackendContract.ROLES_HEADER));
        return new ForwardedIdentity(user, roles, request.getHeader(BackendContract.CLIENT_CERT_HEADER));
    }

    /** The user's name, or null when the front forwarded none. */
    String user() {
        return user;
    }

    /** The user's roles (empty without a user, or when the front's Realm gave none). */
    Set<String> roles() {
        return roles;
    }

    /** The client's certificate chain, client first, or null; a header that does not parse counts as none. */
    synchronized X509Certificate[] certificates() {
        if (!certificatesParsed) {
            certificatesParsed = true;
            certificates = parseCertificates(certificateHeader);
        }
        return certificates == null ? null : certificates.clone();
    }

    private static Set<String> roles(String header) {
        if (header == null || header.isEmpty()) {
            return Set.of();
        }
        Set<String> roles = new LinkedHashSet<>();
        for (String encoded : header.split(",")) {
            try {
                String role = URLDecoder.decode(encoded.trim(), StandardCharsets.UTF_8);
                if (!role.isEmpty()) {
                    roles.add(role);
                }
            } catch (IllegalArgumentException e) {
                // Portico encodes every role; a malformed one is not a role
            }
        }
        return Collections.unmodifiableSet(roles);
    }

    private static X509Certificate[] parseCertificates(String header) {
        if (header == null || header.isEmpty()) {
            return null;
        }
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            String[] encoded = header.split(",");
            X509Certificate[] chain = new X509Certificate[encoded.length];
            for (int i = 0; i < encoded.length; i++) {
                byte[] der = Base64.getDecoder().decode(encoded[i].trim());
                chain[i] = (X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der));
            }
            return chain;
        } catch (CertificateException | IllegalArgumentException | ClassCastException e) {
            return null;
        }
    }
}
