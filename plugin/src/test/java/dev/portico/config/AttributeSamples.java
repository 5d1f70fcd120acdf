package dev.portico.config;

import java.util.List;
import java.util.Objects;

/** Text for an attribute that its type accepts and that means something else than a given value. */
public final class AttributeSamples {

    /**
     * Tried in this order, the first the type accepts wins: 4000 first, as a number in the middle
     * of most ranges (and a backoff's first wait no longer than its longest by default).
     */
    private static final List<String> CANDIDATES = List.of("4000", "1", "2", "true", "false", "unix", "tcp", "8K", "16K",
            "/ready", "/healthz", "BASIC", "NONE", "outOfProcess", "inProcess");

    private AttributeSamples() {
    }

    /** A text the attribute accepts whose value is not {@code avoid}. */
    public static String other(Attribute attribute, Object avoid) {
        for (String text : CANDIDATES) {
            try {
                if (!Objects.equals(attribute.parse(text), avoid)) {
                    return text;
                }
            } catch (IllegalArgumentException refused) {
                // not a value of this attribute's type
            }
        }
        throw new AssertionError("no sample for " + attribute.xmlName());
    }
}
