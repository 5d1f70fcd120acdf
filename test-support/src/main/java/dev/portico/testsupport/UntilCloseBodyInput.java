package dev.portico.testsupport;

import java.io.IOException;
import java.io.InputStream;

/** A body with neither length nor chunks: it ends when the server closes the connection. */
final class UntilCloseBodyInput extends DecodedBodyInput {
    private final InputStream in;
    private boolean ended;

    UntilCloseBodyInput(InputStream in) {
        this.in = in;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (ended) {
            return -1;
        }
        int n = in.read(b, off, len);
        if (n < 0) {
            ended = true;
        }
        return n;
    }
}
