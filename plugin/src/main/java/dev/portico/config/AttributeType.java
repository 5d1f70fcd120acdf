package dev.portico.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the values of an {@link Attribute} are: how the text written in {@code portico.xml} or
 * {@code server.xml} becomes a value, what is refused, and how a value is shown in the reference
 * table and over JMX. One parser per kind of value, so the valve and {@code portico.xml} accept
 * exactly the same text and refuse it with the same reason.
 *
 * @param <T> the value's Java type, as the app's configuration hands it out
 */
public final class AttributeType<T> {

    private static final String TEXT = "java.lang.String";
    private static final Pattern TIME_SPAN = Pattern.compile("(?:(\\d+)\\.)?(\\d{1,2}):(\\d{1,2}):(\\d{1,2})");

    private final Function<String, T> parser;
    private final Function<T, String> formatter;
    private final String values;
    private final String jmxType;
    private final Function<T, Object> shown;

    private AttributeType(Function<String, T> parser, Function<T, String> formatter, String values, String jmxType,
            Function<T, Object> shown) {
        this.parser = parser;
        this.formatter = formatter;
        this.values = values;
        this.jmxType = jmxType;
        this.shown = shown;
    }

    /** A type whose values JMX shows as written. */
    private static <T> AttributeType<T> textual(Function<String, T> parser, Function<T, String> formatter, String values) {
        return new AttributeType<>(parser, formatter, values, TEXT, formatter::apply);
    }

    /** The same text read as another type (a number of seconds as a Duration), shown over JMX as before. */
    private <U> AttributeType<U> as(Function<T, U> to, Function<U, T> back) {
        return new AttributeType<>(text -> to.apply(parse(text)), value -> format(back.apply(value)), values, jmxType,
                value -> shown.apply(back.apply(value)));
    }

    /**
     * @param text the attribute as written, trimmed and not empty
     * @return the value; null when the text means the same as leaving the attribute out
     * @throws IllegalArgumentException whose message says what is accepted ("must be …")
     */
    public T parse(String text) {
        return parser.apply(text);
    }

    /** The value as one would write it. */
    public String format(T value) {
        return formatter.apply(value);
    }

    /** What is accepted, for the reference table's "values" column. */
    public String values() {
        return values;
    }

    /** The type the valve's MBean declares for it in mbeans-descriptors.xml. */
    public String jmxType() {
        return jmxType;
    }

    /** What the valve's getter and its MBean return for the value. */
    public Object jmxValue(T value) {
        return value == null ? null : shown.apply(value);
    }

    // ---------------------------------------------------------------- the types

    public static AttributeType<Integer> wholeNumber(int min, int max) {
        return number(min, max, "whole number");
    }

    public static AttributeType<Integer> mebibytes(int min, int max) {
        return number(min, max, "MiB");
    }

    public static AttributeType<Duration> seconds(int min, int max) {
        return number(min, max, "seconds").as(Duration::ofSeconds, value -> (int) value.toSeconds());
    }

    public static AttributeType<Duration> millis(int min, int max) {
        return number(min, max, "milliseconds").as(Duration::ofMillis, value -> (int) value.toMillis());
    }

    private static AttributeType<Integer> number(int min, int max, String unit) {
        return new AttributeType<>(text -> number(text, min, max), String::valueOf, unit + " " + min + "–" + max, "int",
                value -> value);
    }

    private static int number(String text, int min, int max) {
        try {
            int parsed = Integer.parseInt(text);
            if (parsed >= min && parsed <= max) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // refused below with the accepted range
        }
        throw new IllegalArgumentException("must be a whole number from " + min + " to " + max);
    }

    /** true or false, case-insensitive: never "yes", which would silently mean false. */
    public static AttributeType<Boolean> flag() {
        return new AttributeType<>(text -> switch (text.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("must be true or false");
        }, String::valueOf, "`true`, `false`", "boolean", value -> value);
    }

    /** Plain text: a path, a list of role names, a program. */
    public static AttributeType<String> text(String what) {
        return textual(text -> text, text -> text, what);
    }

    /** One of a few names, case-insensitive. */
    public static <E> AttributeType<E> choice(List<E> choices, Function<E, String> name) {
        List<String> names = choices.stream().map(name).toList();
        return textual(text -> {
            for (E choice : choices) {
                if (name.apply(choice).toLowerCase(Locale.ROOT).equals(text.toLowerCase(Locale.ROOT))) {
                    return choice;
                }
            }
            throw new IllegalArgumentException("must be " + String.join(" or ", names));
        }, name, String.join(", ", names.stream().map(choice -> "`" + choice + "`").toList()));
    }

    /** A byte size: whole bytes or a number with K, M or G ({@link ByteSize}); JMX shows bytes. */
    public static AttributeType<Long> size() {
        return textual(ByteSize::parse, String::valueOf, "size 4K–1024G, or 0");
    }

    /** ANCM's TimeSpan, {@code hh:mm:ss} or {@code d.hh:mm:ss}, or whole seconds; the valve's MBean shows seconds. */
    public static AttributeType<Duration> timeSpan() {
        return new AttributeType<>(AttributeType::timeSpan, AttributeType::formatTimeSpan, "time span 1 s–360 days",
                "int", value -> (int) value.toSeconds());
    }

    private static Duration timeSpan(String text) {
        Duration parsed = null;
        Matcher m = TIME_SPAN.matcher(text);
        if (m.matches()) {
            int minutes = Integer.parseInt(m.group(3));
            int secs = Integer.parseInt(m.group(4));
            if (minutes < 60 && secs < 60) {
                parsed = Duration.ofDays(m.group(1) == null ? 0 : Long.parseLong(m.group(1)))
                        .plusHours(Long.parseLong(m.group(2))).plusMinutes(minutes).plusSeconds(secs);
            }
        } else if (text.matches("\\d{1,9}")) {
            parsed = Duration.ofSeconds(Long.parseLong(text));
        }
        if (parsed == null || parsed.isZero() || parsed.compareTo(Duration.ofDays(360)) > 0) {
            throw new IllegalArgumentException(
                    "must be a time span hh:mm:ss (or whole seconds) between 1 second and 360 days");
        }
        return parsed;
    }

    private static String formatTimeSpan(Duration value) {
        String time = String.format(Locale.ROOT, "%02d:%02d:%02d", value.toHoursPart(), value.toMinutesPart(),
                value.toSecondsPart());
        return value.toDays() == 0 ? time : value.toDays() + "." + time;
    }

    /** A path below the app, such as {@code /healthz}: it is appended to the app's context path. */
    public static AttributeType<String> pathBelowApp() {
        return text("path below the app").as(text -> {
            if (!text.startsWith("/") || text.contains("..") || !text.matches("[\\x21-\\x7e]+")) {
                throw new IllegalArgumentException(
                        "must be a path below the app starting with '/', such as /healthz (no spaces, no '..')");
            }
            return text;
        }, text -> text);
    }

    /** Command-line arguments, split as {@link Arguments} does. */
    public static AttributeType<List<String>> arguments() {
        return textual(text -> List.copyOf(Arguments.split(text)), value -> String.join(" ", value), "arguments");
    }

    /** Comma-separated names; blanks between commas are dropped, and a list of only blanks is no list. */
    public static AttributeType<List<String>> names() {
        return textual(text -> {
            List<String> items = new ArrayList<>();
            for (String item : text.split(",")) {
                if (!item.isBlank()) {
                    items.add(item.trim());
                }
            }
            return items.isEmpty() ? null : List.copyOf(items);
        }, value -> String.join(",", value), "comma-separated names");
    }
}
