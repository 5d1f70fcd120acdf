package dev.portico.sample;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Length and SHA-256 of a stream, read in small pieces so a large body never sits in memory. */
record Digests(long length, String sha256) {

    static Digests of(InputStream in) throws IOException {
        MessageDigest digest = newSha256();
        byte[] buffer = new byte[16 * 1024];
        long length = 0;
        for (int read; (read = in.read(buffer)) != -1; ) {
            digest.update(buffer, 0, read);
            length += read;
        }
        return new Digests(length, HexFormat.of().formatHex(digest.digest()));
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
