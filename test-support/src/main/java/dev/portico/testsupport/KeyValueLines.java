package dev.portico.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;

/** The {@code key=value} lines the tests' info servlets answer with. */
public final class KeyValueLines {

    private KeyValueLines() {
    }

    /** Every line with a key before its first '='; a key that comes twice fails (the servlets say each once). */
    public static Map<String, String> parse(String body) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : body.split("\\R")) {
            int eq = line.indexOf('=');
            if (eq > 0 && values.put(line.substring(0, eq), line.substring(eq + 1)) != null) {
                throw new AssertionError("key " + line.substring(0, eq) + " twice in:\n" + body);
            }
        }
        return values;
    }

    /**
     * Fails unless {@code values} holds each of {@code keysAndValues} (key, value, key, value...);
     * the message lists every field that differs, and all the values.
     */
    public static void assertValues(Map<String, String> values, String... keysAndValues) {
        if (keysAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("keys and values come in pairs");
        }
        Map<String, String> expected = new LinkedHashMap<>();
        Map<String, String> actual = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            expected.put(keysAndValues[i], keysAndValues[i + 1]);
            actual.put(keysAndValues[i], values.get(keysAndValues[i]));
        }
        assertEquals(expected, actual, () -> "in " + values);
    }
}
