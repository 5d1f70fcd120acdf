package dev.portico.testsupport;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reading the JSON the servers under test answer: a tree, plain Java values, or single fields
 * picked out of the compact text that the test backends and Portico's status page print.
 */
public final class Json {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_LONG_FOR_INTS);

    private Json() {
    }

    /** The whole text as a tree; fails (an AssertionError naming the text) when it is not JSON. */
    public static JsonNode tree(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + HttpTestClient.abbreviate(text), e);
        }
    }

    /**
     * The whole text as plain Java values: objects become {@code LinkedHashMap<String, Object>},
     * arrays {@code List<Object>}, numbers {@code Long} or {@code Double}, plus String, Boolean and null.
     */
    public static Object parse(String text) {
        try {
            return MAPPER.readValue(text, Object.class);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + HttpTestClient.abbreviate(text), e);
        }
    }

    /** {@link #parse} of a JSON object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> object(String text) {
        Object value = parse(text);
        if (!(value instanceof Map)) {
            throw new AssertionError("not a JSON object: " + HttpTestClient.abbreviate(text));
        }
        return (Map<String, Object>) value;
    }

    /** The string or number value of the first {@code "name":value} anywhere in compact JSON text, or null. */
    public static String field(String text, String name) {
        List<String> all = fields(text, name);
        return all.isEmpty() ? null : all.get(0);
    }

    /** Every string or number value of {@code "name":value} in compact JSON text, in order (null for null). */
    public static List<String> fields(String text, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\":(\"((?:[^\"\\\\]|\\\\.)*)\"|(-?[0-9.]+)|null)")
                .matcher(text);
        List<String> values = new ArrayList<>();
        while (m.find()) {
            values.add(m.group(2) != null ? m.group(2) : m.group(3));
        }
        return values;
    }
}
