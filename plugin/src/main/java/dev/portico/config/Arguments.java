package dev.portico.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits an {@code arguments} attribute into a process argument list. Whitespace separates
 * arguments; double quotes keep an argument whole (and may be escaped with a backslash), as
 * ANCM users expect when a path contains spaces.
 */
public final class Arguments {

    private Arguments() {
    }

    public static List<String> split(String line) {
        List<String> result = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean inQuotes = false;
        boolean inArgument = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                current.append('"');
                inArgument = true;
                i++;
            } else if (c == '"') {
                inQuotes = !inQuotes;
                inArgument = true;
            } else if (Character.isWhitespace(c) && !inQuotes) {
                if (inArgument) {
                    result.add(current.toString());
                    current.setLength(0);
                    inArgument = false;
                }
            } else {
                current.append(c);
                inArgument = true;
            }
        }
        if (inQuotes) {
            throw new IllegalArgumentException("unbalanced double quote");
        }
        if (inArgument) {
            result.add(current.toString());
        }
        return result;
    }
}
