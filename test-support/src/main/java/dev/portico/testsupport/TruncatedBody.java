package dev.portico.testsupport;

import java.io.EOFException;

/** The server closed the connection before the whole {@code Content-Length} of a body had come. */
public final class TruncatedBody extends EOFException {
    private static final long serialVersionUID = 1L;

    TruncatedBody(long missing) {
        super("body cut: the server closed the connection with " + missing
                + " bytes of the Content-Length still to come");
    }
}
