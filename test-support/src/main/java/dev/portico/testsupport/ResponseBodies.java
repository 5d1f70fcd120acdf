package dev.portico.testsupport;

import java.io.InputStream;
import java.util.Locale;
import java.util.Optional;

/** Picks how the body of a final response is delimited, from the request method and the head. */
final class ResponseBodies {

    private ResponseBodies() {
    }

    /** The decoded body: none, chunked, {@code Content-Length} bytes, or everything until the server closes. */
    static InputStream decoded(RawResponseHead head, String requestMethod, ResponseLineReader lines) {
        if ("HEAD".equals(requestMethod) || head.status() == 204 || head.status() == 304) {
            return InputStream.nullInputStream();
        }
        if (head.header("Transfer-Encoding").map(v -> v.toLowerCase(Locale.ROOT).contains("chunked")).orElse(false)) {
            return new ChunkedBodyInput(lines);
        }
        Optional<String> length = head.header("Content-Length");
        long declared = length.isPresent() ? Long.parseLong(length.get()) : -1;
        // a negative Content-Length declares no length, so the body runs until close as if there were none
        return declared < 0 ? new UntilCloseBodyInput(lines.input()) : new ContentLengthBodyInput(lines.input(), declared);
    }
}
