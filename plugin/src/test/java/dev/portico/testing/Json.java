package dev.portico.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads single fields out of the flat JSON the test backends print; enough for assertions. */
public final class Json {

    private Json() {
    }

    /** The string or number value of the first {@code "name":value} in the text, or null. */
    public static String field(String json, String name) {
        List<String> all = fields(json, name);
        return all.isEmpty() ? null : all.get(0);
    }

    public static List<String> fields(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\":(\"((?:[^\"\\\\]|\\\\.)*)\"|(-?[0-9.]+)|null)").matcher(json);
        List<String> values = new ArrayList<>();
        while (m.find()) {
            values.add(m.group(2) != null ? m.group(2) : m.group(3));
        }
        return values;
    }
}
