package dev.portico;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The plugin's shape, read from its sources (docs/architecture.md, "Packages"): packages do not
 * depend on each other in a circle, the layers below do not reach up, forwarding reaches the pool
 * only through the backend seam, no file is over 400 lines and no method over 40.
 */
class ArchitectureTest {

    private static final Path SOURCES = Path.of("src/main/java");
    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern REFERENCE = Pattern.compile("\\bdev\\.portico\\.((?:[a-z]\\w*\\.)*)[A-Z]");

    /** Each package and the Portico packages it must not use. */
    private static final Map<String, Set<String>> FORBIDDEN = Map.of(
            "config", Set.of("hosting", "inprocess", "outofprocess", "status", "jmx", "hooks"),
            "hosting", Set.of("inprocess", "outofprocess", "status", "jmx", "hooks"),
            "status", Set.of("inprocess", "outofprocess"),
            "inprocess", Set.of("outofprocess"),
            "outofprocess.backend", Set.of("outofprocess.pool", "outofprocess.process", "outofprocess.forward"),
            "outofprocess.forward", Set.of("outofprocess.pool", "outofprocess.process", "outofprocess"),
            "outofprocess.pool", Set.of("outofprocess.forward", "outofprocess"),
            "outofprocess.process", Set.of("outofprocess.pool", "outofprocess.forward", "outofprocess"),
            "outofprocess.forward.upgrade", Set.of("outofprocess.forward", "outofprocess.pool",
                    "outofprocess.process", "outofprocess"));

    @Test
    void noPackageDependsOnItselfThroughOthers() {
        Map<String, Set<String>> uses = dependencies();
        for (String start : uses.keySet()) {
            List<String> cycle = pathBack(uses, start, start, new TreeSet<>(), new ArrayList<>());
            assertTrue(cycle.isEmpty(), "package cycle: " + start + " -> " + String.join(" -> ", cycle));
        }
    }

    @Test
    void lowerLayersAndTheForwardingSideDoNotReachWhereTheyMustNot() {
        Map<String, Set<String>> uses = dependencies();
        assertTrue(uses.containsKey("outofprocess.forward") && uses.containsKey("hosting"),
                "the sources were not found where the test reads them: " + SOURCES.toAbsolutePath());
        FORBIDDEN.forEach((from, forbidden) -> {
            Set<String> used = new TreeSet<>(uses.getOrDefault(from, Set.of()));
            used.retainAll(forbidden);
            assertEquals(Set.of(), used, "dev.portico." + from + " uses packages it must not");
        });
    }

    @Test
    void noFileIsOver400Lines() throws IOException {
        try (Stream<Path> files = Files.walk(SOURCES)) {
            files.filter(file -> file.toString().endsWith(".java")).forEach(file -> {
                String name = SOURCES.resolve("dev/portico").relativize(file).toString().replace('\\', '/');
                int lines = lines(file).size();
                assertTrue(lines <= 400, name + " has " + lines + " lines, more than 400");
            });
        }
    }

    @Test
    void noMethodIsOver40Lines() throws IOException {
        List<String> tooLong = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            files.filter(file -> file.toString().endsWith(".java")).forEach(file -> tooLong.addAll(methodsOver(40, file)));
        }
        assertEquals(List.of(), tooLong);
    }

    private static final Pattern COMMENT_OR_STRING = Pattern.compile(
            "\"\"\"[\\s\\S]*?\"\"\"|\"(?:[^\"\\\\\\n]|\\\\.)*\"|'(?:[^'\\\\\\n]|\\\\.)'|//[^\\n]*|/\\*[\\s\\S]*?\\*/");
    private static final Pattern SIGNATURE = Pattern.compile("(?:@\\w+(?:\\([^)]*\\))?\\s+)*(?:(?:public|private|protected"
            + "|static|final|synchronized|abstract|default|native)\\s+)*(?:<[^>]+>\\s+)?[\\w<>\\[\\], ?.]+\\s+(\\w+)\\s*\\(.*\\)"
            + "\\s*(?:throws\\s+[\\w., ]+)?");
    private static final Pattern NOT_A_METHOD = Pattern.compile(
            "^(?:if|for|while|switch|catch|try|else|do|synchronized|return|new)\\b.*|.*\\b(?:record|class|interface|enum)\\b.*|.*->.*");

    /** Methods of {@code file} longer than {@code limit} lines, found by their braces once comments and strings are blanked. */
    private static List<String> methodsOver(int limit, Path file) {
        String text = COMMENT_OR_STRING.matcher(String.join("\n", lines(file)))
                .replaceAll(match -> "\n".repeat((int) match.group().chars().filter(c -> c == '\n').count()));
        List<String> found = new ArrayList<>();
        Deque<int[]> open = new ArrayDeque<>();
        Deque<String> names = new ArrayDeque<>();
        StringBuilder statement = new StringBuilder();
        int line = 1;
        for (char c : text.toCharArray()) {
            line += c == '\n' ? 1 : 0;
            if (c == '{') {
                String declared = statement.toString().replaceAll("\\s+", " ").trim();
                Matcher signature = SIGNATURE.matcher(declared);
                boolean method = signature.matches() && !NOT_A_METHOD.matcher(declared).matches()
                        && !declared.substring(0, declared.indexOf('(')).contains("=");
                open.push(new int[] {line, method ? 1 : 0});
                names.push(method ? signature.group(1) : "");
            } else if (c == '}' && !open.isEmpty()) {
                int[] block = open.pop();
                String name = names.pop();
                if (block[1] == 1 && line - block[0] + 1 > limit) {
                    found.add(file.getFileName() + " " + name + ": " + (line - block[0] + 1) + " lines");
                }
            }
            statement.setLength(c == '{' || c == '}' || c == ';' ? 0 : statement.length());
            if (c != '{' && c != '}' && c != ';') {
                statement.append(c);
            }
        }
        return found;
    }

    /** A path of packages leading from {@code from} back to {@code target}, or none. */
    private static List<String> pathBack(Map<String, Set<String>> uses, String from, String target, Set<String> seen,
            List<String> path) {
        for (String next : uses.getOrDefault(from, Set.of())) {
            path.add(next);
            if (next.equals(target)) {
                return path;
            }
            if (seen.add(next) && !pathBack(uses, next, target, seen, path).isEmpty()) {
                return path;
            }
            path.remove(path.size() - 1);
        }
        return List.of();
    }

    /** For each package below dev.portico ("" for dev.portico itself), the Portico packages its sources name. */
    private static Map<String, Set<String>> dependencies() {
        Map<String, Set<String>> uses = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            files.filter(file -> file.toString().endsWith(".java")).forEach(file -> {
                String source = String.join("\n", lines(file));
                Matcher declared = PACKAGE.matcher(source);
                assertTrue(declared.find(), file + " declares no package");
                String own = relative(declared.group(1));
                Set<String> used = uses.computeIfAbsent(own, p -> new TreeSet<>());
                Matcher reference = REFERENCE.matcher(source);
                while (reference.find()) {
                    String other = relative("dev.portico." + reference.group(1).replaceAll("\\.$", ""));
                    if (!other.equals(own) && !other.startsWith("integration") && !other.startsWith("hooks.")
                            && !other.startsWith("shaded")) {
                        used.add(other);
                    }
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return uses;
    }

    private static String relative(String packageName) {
        return packageName.equals("dev.portico") ? "" : packageName.substring("dev.portico.".length());
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
