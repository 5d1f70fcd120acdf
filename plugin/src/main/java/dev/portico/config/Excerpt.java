package dev.portico.config;

/**
 * What Portico echoes of text it did not write — attribute values, element names, parser and
 * I/O messages — into an error page or a log line: at most {@value #MAX_CHARS} characters and
 * the total length, so a 5 MB value costs a line and not 5 MB per page and per scan, with
 * control characters escaped, so a value cannot start a forged log line.
 */
public final class Excerpt {

    static final int MAX_CHARS = 200;

    private Excerpt() {
    }

    /** The text itself when short, else its first {@value #MAX_CHARS} characters, "…" and the length; null stays null. */
    public static String of(String text) {
        if (text == null) {
            return null;
        }
        boolean cut = text.length() > MAX_CHARS;
        int end = cut ? MAX_CHARS : text.length();
        if (cut && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--; // never half a character
        }
        StringBuilder out = new StringBuilder(end + 24);
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (cut) {
            out.append("… (").append(text.length()).append(" chars)");
        }
        return out.toString();
    }
}
