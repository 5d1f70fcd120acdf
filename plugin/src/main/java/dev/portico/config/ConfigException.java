package dev.portico.config;

import java.nio.file.Path;

/**
 * A configuration error that names the file, the attribute and the offending value, so that an
 * administrator can fix it without reading code. Rendered as a 500.19 page and a log line.
 * The attribute and the value come from the file and are kept as {@link Excerpt}s; a reason
 * that quotes the file or an exception must be built with excerpts too.
 */
public class ConfigException extends Exception {

    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String attribute;
    private final String value;

    public ConfigException(Path file, String attribute, String value, String reason) {
        super(describe(file, attribute, value, reason));
        this.file = file;
        this.attribute = Excerpt.of(attribute);
        this.value = Excerpt.of(value);
    }

    public ConfigException(Path file, String reason, Throwable cause) {
        super(describe(file, null, null, reason), cause);
        this.file = file;
        this.attribute = null;
        this.value = null;
    }

    private static String describe(Path file, String attribute, String value, String reason) {
        StringBuilder text = new StringBuilder().append(file);
        if (attribute != null) {
            text.append(": attribute '").append(Excerpt.of(attribute)).append('\'');
            if (value != null) {
                text.append(" has invalid value '").append(Excerpt.of(value)).append('\'');
            }
        }
        return text.append(": ").append(reason).toString();
    }

    public Path file() {
        return file;
    }

    public String attribute() {
        return attribute;
    }

    public String value() {
        return value;
    }
}
