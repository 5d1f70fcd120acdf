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

    /**
     * Parses a whole JSON text: objects become {@code LinkedHashMap<String, Object>}, arrays
     * {@code List<Object>}, numbers {@code Long} or {@code Double}, plus String, Boolean and null.
     */
    public static Object parse(String json) {
        Parser parser = new Parser(json);
        Object value = parser.value();
        parser.skipSpace();
        if (parser.at < json.length()) {
            throw new IllegalArgumentException("trailing text at " + parser.at + " in: " + json);
        }
        return value;
    }

    /** {@link #parse} of a JSON object. */
    @SuppressWarnings("unchecked")
    public static java.util.Map<String, Object> object(String json) {
        Object value = parse(json);
        if (!(value instanceof java.util.Map)) {
            throw new IllegalArgumentException("not a JSON object: " + json);
        }
        return (java.util.Map<String, Object>) value;
    }

    private static final class Parser {
        private final String text;
        private int at;

        Parser(String text) {
            this.text = text;
        }

        void skipSpace() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
        }

        Object value() {
            skipSpace();
            if (at >= text.length()) {
                throw new IllegalArgumentException("unexpected end of JSON: " + text);
            }
            char c = text.charAt(at);
            switch (c) {
                case '{': {
                    at++;
                    java.util.Map<String, Object> map = new java.util.LinkedHashMap<>();
                    skipSpace();
                    if (text.charAt(at) == '}') {
                        at++;
                        return map;
                    }
                    while (true) {
                        skipSpace();
                        String key = string();
                        skipSpace();
                        expect(':');
                        map.put(key, value());
                        skipSpace();
                        if (text.charAt(at) == ',') {
                            at++;
                        } else {
                            expect('}');
                            return map;
                        }
                    }
                }
                case '[': {
                    at++;
                    List<Object> list = new ArrayList<>();
                    skipSpace();
                    if (text.charAt(at) == ']') {
                        at++;
                        return list;
                    }
                    while (true) {
                        list.add(value());
                        skipSpace();
                        if (text.charAt(at) == ',') {
                            at++;
                        } else {
                            expect(']');
                            return list;
                        }
                    }
                }
                case '"':
                    return string();
                default:
                    if (text.startsWith("true", at)) {
                        at += 4;
                        return Boolean.TRUE;
                    }
                    if (text.startsWith("false", at)) {
                        at += 5;
                        return Boolean.FALSE;
                    }
                    if (text.startsWith("null", at)) {
                        at += 4;
                        return null;
                    }
                    int start = at;
                    while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) {
                        at++;
                    }
                    String number = text.substring(start, at);
                    if (number.isEmpty()) {
                        throw new IllegalArgumentException("unexpected '" + c + "' at " + start + " in: " + text);
                    }
                    return number.matches("-?[0-9]+") ? (Object) Long.valueOf(number) : (Object) Double.valueOf(number);
            }
        }

        private String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (true) {
                char c = text.charAt(at++);
                if (c == '"') {
                    return out.toString();
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char escaped = text.charAt(at++);
                switch (escaped) {
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'u' -> {
                        out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                        at += 4;
                    }
                    default -> out.append(escaped);
                }
            }
        }

        private void expect(char c) {
            if (at >= text.length() || text.charAt(at) != c) {
                throw new IllegalArgumentException("expected '" + c + "' at " + at + " in: " + text);
            }
            at++;
        }
    }
}
