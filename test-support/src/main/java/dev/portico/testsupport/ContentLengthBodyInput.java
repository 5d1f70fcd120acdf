package dev.portico.testsupport;

import java.io.IOException;
import java.io.InputStream;

/** A body of a known length; ending early is a {@link TruncatedBody}, not a short body. */
final class ContentLengthBodyInput extends DecodedBodyInput {
    private final InputStream in;
    private long remaining;

    ContentLengthBodyInput(InputStream in, long length) {
        this.in = in;
        this.remaining = length;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (remaining <= 0) {
            return -1;
        }
        int n = in.read(b, off, (int) Math.min(len, remaining));
        if (n < 0) {
            throw new TruncatedBody(remaining);
        }
        remaining -= n;
        return n;
    }
}
