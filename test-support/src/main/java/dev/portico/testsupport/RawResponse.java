package dev.portico.testsupport;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** A final response: head and decoded body. */
public record RawResponse(RawResponseHead head, byte[] body) {

    public int status() {
        return head.status();
    }

    public Optional<String> header(String name) {
        return head.header(name);
    }

    public boolean closesConnection() {
        return head.closesConnection();
    }

    public String text() {
        return new String(body, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return head.statusLine() + " (" + body.length + " bytes"
                + (closesConnection() ? ", Connection: close" : "") + ")";
    }
}
