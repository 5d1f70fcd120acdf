package dev.portico.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * What the server sends on one connection, read as lines where HTTP has lines (the head, chunk
 * framing) and as bytes elsewhere. Bounded, so a server that never ends a line cannot fill the heap.
 */
final class ResponseLineReader {

    static final int MAX_HEAD_BYTES = 64 * 1024;

    private final InputStream in;

    ResponseLineReader(InputStream in) {
        this.in = in;
    }

    /**
     * The next line without its CRLF (a bare LF ends a line too).
     *
     * @param firstOfResponse whether an end of stream before any byte means "no response" rather than
     *                        a cut line, for the message
     */
    String readLine(boolean firstOfResponse) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (firstOfResponse && line.size() == 0) {
                    throw new EOFException("the server closed the connection without a response");
                }
                throw new EOFException("the server closed the connection in the middle of a line: "
                        + line.toString(StandardCharsets.ISO_8859_1));
            }
            if (b == '\n') {
                break;
            }
            if (b != '\r') {
                line.write(b);
            }
            if (line.size() > MAX_HEAD_BYTES) {
                throw new IOException("line longer than " + MAX_HEAD_BYTES + " bytes");
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    /** The same bytes unframed, for bodies; shares its buffer with {@link #readLine}. */
    InputStream input() {
        return in;
    }
}
