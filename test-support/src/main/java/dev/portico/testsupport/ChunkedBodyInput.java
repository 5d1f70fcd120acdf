package dev.portico.testsupport;

import java.io.EOFException;
import java.io.IOException;

/** A body in chunked coding, decoded; chunk extensions and trailer fields are read and dropped. */
final class ChunkedBodyInput extends DecodedBodyInput {
    private final ResponseLineReader lines;
    private long remainingInChunk;
    private boolean done;

    ChunkedBodyInput(ResponseLineReader lines) {
        this.lines = lines;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (done) {
            return -1;
        }
        if (remainingInChunk == 0) {
            remainingInChunk = readChunkSize();
            if (remainingInChunk == 0) {
                skipTrailer();
                done = true;
                return -1;
            }
        }
        int n = lines.input().read(b, off, (int) Math.min(len, remainingInChunk));
        if (n < 0) {
            throw new EOFException("the server closed the connection inside a chunk");
        }
        remainingInChunk -= n;
        if (remainingInChunk == 0 && !lines.readLine(false).isEmpty()) {
            throw new IOException("chunk data not followed by CRLF");
        }
        return n;
    }

    private long readChunkSize() throws IOException {
        String sizeLine = lines.readLine(false);
        int semicolon = sizeLine.indexOf(';');
        String hex = (semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim();
        try {
            return Long.parseLong(hex, 16);
        } catch (NumberFormatException e) {
            throw new IOException("bad chunk size line from the server: " + sizeLine);
        }
    }

    private void skipTrailer() throws IOException {
        while (!lines.readLine(false).isEmpty()) {
            // trailer fields
        }
    }
}
