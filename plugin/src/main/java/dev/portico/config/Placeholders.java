package dev.portico.config;

import java.util.function.Function;

/**
 * Environment variable references in {@code arguments}, {@code jvmOptions} and the values of
 * {@code environmentVariables}, so that a gunicorn or uvicorn binds {@code 127.0.0.1:%PORTICO_PORT%}
 * without a wrapper script. Two spellings:
 * <ul>
 * <li>{@code %NAME%}, ANCM's (Windows' {@code ExpandEnvironmentStrings}): a name that is not set is
 * left as written, so text with percent signs of its own ({@code date +%H%M}) needs no escaping;
 * {@code %%} is one literal {@code %};</li>
 * <li>{@code ${NAME}}, the shell's: a name that is not set is an error (a misspelt
 * {@code ${PORTICO_PROT}} would otherwise reach the program as it stands); {@code $${} is a
 * literal {@code ${}, and any other {@code $} is itself.</li>
 * </ul>
 * A name is a letter or underscore followed by letters, digits and underscores.
 */
public final class Placeholders {

    private Placeholders() {
    }

    /**
     * @param lookup a variable's value, or null when it is not set
     * @throws IllegalArgumentException for a {@code ${NAME}} that is not set or not closed, saying which
     */
    public static String expand(String text, Function<String, String> lookup) {
        if (text.indexOf('%') < 0 && text.indexOf('$') < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 16);
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '%') {
                i = percent(text, i, lookup, out);
            } else if (c == '$' && text.startsWith("$${", i)) {
                out.append("${");
                i += 3;
            } else if (c == '$' && text.startsWith("${", i)) {
                i = braces(text, i, lookup, out);
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** {@code %%}, {@code %NAME%} or a lone percent sign at {@code start}; returns where the text goes on. */
    private static int percent(String text, int start, Function<String, String> lookup, StringBuilder out) {
        if (text.startsWith("%%", start)) {
            out.append('%');
            return start + 2;
        }
        int end = nameEnd(text, start + 1);
        if (end > start + 1 && end < text.length() && text.charAt(end) == '%') {
            String value = lookup.apply(text.substring(start + 1, end));
            if (value != null) {
                out.append(value);
                return end + 1;
            }
        }
        // not a reference, or an unset name: the percent sign stays, and the text after it is read afresh
        out.append('%');
        return start + 1;
    }

    private static int braces(String text, int start, Function<String, String> lookup, StringBuilder out) {
        int close = text.indexOf('}', start + 2);
        if (close < 0) {
            throw new IllegalArgumentException("\"${\" without a closing \"}\" (write \"$${\" for a literal \"${\")");
        }
        String name = text.substring(start + 2, close);
        if (name.isEmpty() || nameEnd(name, 0) != name.length()) {
            throw new IllegalArgumentException("\"${" + Excerpt.of(name) + "}\" is not a variable name"
                    + " (letters, digits and underscores; write \"$${\" for a literal \"${\")");
        }
        String value = lookup.apply(name);
        if (value == null) {
            throw new IllegalArgumentException("refers to ${" + name + "}, which is not set (write \"$${\" for a literal \"${\")");
        }
        out.append(value);
        return close + 1;
    }

    /** The end of the variable name that starts at {@code start}; {@code start} itself when there is none. */
    private static int nameEnd(String text, int start) {
        int i = start;
        while (i < text.length()) {
            char c = text.charAt(i);
            boolean letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
            if (!(letter || (i > start && c >= '0' && c <= '9'))) {
                break;
            }
            i++;
        }
        return i;
    }
}
