package dev.portico.integration;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** The pairing token, compared in constant time so the answer's timing does not reveal it. */
final class PairingToken {

    private final byte[] expected;

    PairingToken(String token) {
        // HTTP header values are ISO-8859-1 on the wire and Tomcat decodes them that way.
        this.expected = token.getBytes(StandardCharsets.ISO_8859_1);
    }

    boolean matches(String candidate) {
        if (candidate == null) {
            return false;
        }
        // MessageDigest.isEqual runs in time that depends on the expected length only.
        return MessageDigest.isEqual(expected, candidate.getBytes(StandardCharsets.ISO_8859_1));
    }
}
