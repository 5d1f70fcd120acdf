package dev.portico.testsupport;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Request and response bodies of the tests: generated on the fly (a 100 MB one is never held in
 * memory), random from a seed, the test backends' download pattern, and SHA-256 digests.
 */
public final class TestBodies {

    private TestBodies() {
    }

    /** Pseudo-random bytes from a fixed seed: the same stream every time. */
    public static Supplier<InputStream> seeded(long length, long seed) {
        return () -> new GeneratedStream(length) {
            private final SplittableRandom random = new SplittableRandom(seed);

            @Override
            int next(long index) {
                return random.nextInt(256);
            }
        };
    }

    /** The Node backend's /download content: byte i is i % 251. */
    public static Supplier<InputStream> modulo251(long length) {
        return () -> new GeneratedStream(length) {
            @Override
            int next(long index) {
                return (int) (index % 251);
            }
        };
    }

    /** True when {@code body} is what the test backends' /download sends: {@code length} bytes, byte i = i % 251. */
    public static boolean isModulo251(byte[] body, int length) {
        if (body.length != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if ((body[i] & 0xff) != i % 251) {
                return false;
            }
        }
        return true;
    }

    /** {@code length} pseudo-random bytes from a fixed seed. */
    public static byte[] random(int length, long seed) {
        byte[] body = new byte[length];
        new SplittableRandom(seed).nextBytes(body);
        return body;
    }

    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(newSha256().digest(bytes));
    }

    public static String sha256(InputStream in) {
        MessageDigest digest = newSha256();
        byte[] buffer = new byte[64 * 1024];
        try (in) {
            for (int n; (n = in.read(buffer)) != -1; ) {
                digest.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Reads a stream to its end; returns its length and SHA-256. */
    public static Digest digest(InputStream in) {
        CountingInputStream counting = new CountingInputStream(in);
        String sha = sha256(counting);
        return new Digest(counting.count, sha);
    }

    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Length and SHA-256 of a body. */
    public record Digest(long length, String sha256) {
    }

    private abstract static class GeneratedStream extends InputStream {
        private final long length;
        private long position;

        GeneratedStream(long length) {
            this.length = length;
        }

        abstract int next(long index);

        @Override
        public int read() {
            return position < length ? next(position++) : -1;
        }

        @Override
        public int read(byte[] target, int offset, int count) {
            if (position >= length) {
                return -1;
            }
            int n = (int) Math.min(count, length - position);
            for (int i = 0; i < n; i++) {
                target[offset + i] = (byte) next(position++);
            }
            return n;
        }
    }

    private static final class CountingInputStream extends FilterInputStream {
        private long count;

        CountingInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }
}
