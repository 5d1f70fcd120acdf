package dev.portico.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads a test Tomcat's console log (everything Tomcat's loggers wrote, in the one-line format
 * {@code dd-MMM-yyyy HH:mm:ss.SSS LEVEL [thread] source message}, stack traces on the lines after)
 * and finds what must not be there: a SEVERE record, a stack trace, a webapp thread that Tomcat saw
 * "failed to stop it". A test that provokes such a record on purpose names it with a regular
 * expression; that record (with its stack trace) is then allowed, nothing else is.
 */
public final class CatalinaLog {

    private static final Pattern RECORD_START = Pattern.compile(
            "^\\d{2}-\\w{3}-\\d{4} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} ([A-Z]+) .*");
    private static final Pattern STACK_LINE = Pattern.compile(
            "^(\\s+at \\S+\\(.*\\)|\\s*\\.\\.\\. \\d+ more|Caused by: .*|Suppressed: .*"
                    + "|\\s+Suppressed: .*|\\s+Caused by: .*|[\\w.$]+(Exception|Error|Throwable)(: .*)?)$");
    private static final int SHOWN_RECORDS = 12;
    private static final int SHOWN_LINES_PER_RECORD = 12;

    private CatalinaLog() {
    }

    /** The records of {@code log} that are SEVERE, carry a stack trace or report a thread left running. */
    public static List<String> problems(String log, List<Pattern> provoked) {
        List<String> problems = new ArrayList<>();
        for (List<String> record : records(log)) {
            String text = String.join("\n", record);
            if (isProblem(record) && provoked.stream().noneMatch(p -> p.matcher(text).find())) {
                problems.add(text);
            }
        }
        return problems;
    }

    /** Fails listing the problems of {@code log} (see {@link #problems}). */
    public static void assertClean(String what, String log, String... provokedRegexes) {
        List<Pattern> provoked = List.of(provokedRegexes).stream().map(Pattern::compile).toList();
        List<String> problems = problems(log, provoked);
        if (problems.isEmpty()) {
            return;
        }
        String shown = problems.stream().limit(SHOWN_RECORDS).map(CatalinaLog::abbreviate)
                .collect(Collectors.joining("\n  ---\n  ", "  ", ""));
        throw new AssertionError(problems.size() + " SEVERE / stack-trace / \"failed to stop it\" record(s) in "
                + what + " that the test did not provoke:\n" + shown
                + (problems.size() > SHOWN_RECORDS ? "\n  … and " + (problems.size() - SHOWN_RECORDS) + " more" : ""));
    }

    private static boolean isProblem(List<String> record) {
        String first = record.get(0);
        var start = RECORD_START.matcher(first);
        if (start.matches() && start.group(1).equals("SEVERE")) {
            return true;
        }
        if (record.stream().anyMatch(line -> line.contains("but has failed to stop it"))) {
            return true;
        }
        return record.stream().skip(start.matches() ? 1 : 0).anyMatch(line -> STACK_LINE.matcher(line).matches());
    }

    /** Splits the log into records: a line in the one-line format and the lines after it that are not. */
    static List<List<String>> records(String log) {
        List<List<String>> records = new ArrayList<>();
        List<String> current = null;
        for (String line : log.lines().toList()) {
            if (RECORD_START.matcher(line).matches() || current == null) {
                current = new ArrayList<>();
                records.add(current);
            }
            current.add(line);
        }
        return records;
    }

    private static String abbreviate(String record) {
        List<String> lines = record.lines().toList();
        String text = lines.stream().limit(SHOWN_LINES_PER_RECORD).collect(Collectors.joining("\n    "));
        return lines.size() > SHOWN_LINES_PER_RECORD ? text + "\n    … " + (lines.size() - SHOWN_LINES_PER_RECORD)
                + " more lines" : text;
    }
}
