package dev.portico.testsupport;

import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Reads a status line and its header lines, up to the blank line that ends them. */
final class ResponseHeadReader {

    private ResponseHeadReader() {
    }

    /**
     * The next head, interim (1xx) or final.
     *
     * @throws EOFException when the server closed the connection before a status line
     */
    static RawResponseHead read(ResponseLineReader lines) throws IOException {
        String statusLine = lines.readLine(true);
        List<RawHeaderField> headers = new ArrayList<>();
        int total = statusLine.length();
        for (String line; !(line = lines.readLine(false)).isEmpty(); ) {
            total += line.length();
            if (total > ResponseLineReader.MAX_HEAD_BYTES) {
                throw new IOException("response head longer than " + ResponseLineReader.MAX_HEAD_BYTES + " bytes");
            }
            headers.add(field(line));
        }
        return new RawResponseHead(statusLine, List.copyOf(headers));
    }

    /** A line without a colon is kept, as a name with an empty value, so a test can see it. */
    private static RawHeaderField field(String line) {
        int colon = line.indexOf(':');
        return colon < 0 ? new RawHeaderField(line, "")
                : new RawHeaderField(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
    }
}
