package dev.portico.testsupport;

/** One header line of a response, as it arrived. */
public record RawHeaderField(String name, String value) {
    @Override
    public String toString() {
        return name + ": " + value;
    }
}
