package dev.portico.testsupport;

import java.io.IOException;
import java.io.InputStream;

/** A decoded response body: the single-byte read in terms of the bulk read, where the decoding lives. */
abstract class DecodedBodyInput extends InputStream {
    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }
}
