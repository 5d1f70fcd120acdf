package dev.portico.testsupport;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** Status line and headers of one response, interim or final. */
public record RawResponseHead(String statusLine, List<RawHeaderField> headers) {

    public int status() {
        String[] parts = statusLine.split(" ", 3);
        try {
            return parts.length >= 2 && parts[0].startsWith("HTTP/") ? Integer.parseInt(parts[1]) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** 1xx but 101: a 101 ends HTTP on the connection rather than announcing a response. */
    public boolean isInterim() {
        int status = status();
        return status >= 100 && status < 200 && status != 101;
    }

    /** The first value of the header, if any. */
    public Optional<String> header(String name) {
        return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(RawHeaderField::value).findFirst();
    }

    /** Every value of the header, one per header line, in order. */
    public List<String> values(String name) {
        return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(RawHeaderField::value).toList();
    }

    /** The response says the server closes the connection after it. */
    public boolean closesConnection() {
        return headers.stream().anyMatch(h -> h.name().equalsIgnoreCase("Connection")
                && h.value().toLowerCase(Locale.ROOT).contains("close"));
    }

    @Override
    public String toString() {
        return statusLine + headers.stream().map(RawHeaderField::toString).collect(Collectors.joining(", ", " {", "}"));
    }
}
