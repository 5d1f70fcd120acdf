package dev.portico.express;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.catalina.util.ContextName;

/**
 * What the user asked for, checked before anything starts: every mistake is a
 * {@link UsageException} (exit status 2, no stack trace).
 *
 * @param port    the loopback port; 0 picks a free one
 * @param apps    the apps to host, in the order given; empty means the bundled sample
 * @param verbose show Tomcat's own INFO log
 * @param help    print the usage and exit
 * @param hooks   the lifecycle hooks' directory, or null for none
 */
record CommandLine(int port, List<App> apps, boolean verbose, boolean help, Path hooks) {

    static final int DEFAULT_PORT = 8080;

    static final String USAGE_LINE = "usage: java -jar portico-express.jar [--port N] [--hooks DIR] [--verbose] [APP ...]";

    static final String USAGE = String.join(System.lineSeparator(),
            USAGE_LINE,
            "",
            "Runs Apache Tomcat with Portico on http://127.0.0.1:N/ and hosts each APP at /<name>:",
            "  APP             a .war file, an exploded WAR directory (has WEB-INF/), or a directory",
            "                  with portico.xml at its root (any program, hosted out of process)",
            "                  app.war and app/ are served at /app; ROOT is served at /",
            "  --port N        port on 127.0.0.1 (default " + DEFAULT_PORT + "; 0 picks a free port)",
            "  --hooks DIR     lifecycle hook jars (CDI beans observing Portico's events; docs/hooks.md)",
            "  --verbose       show Tomcat's INFO log as well",
            "  --help          print this help",
            "",
            "Without APP, the bundled sample WAR is hosted twice: in-process at /inproc and",
            "out-of-process (a child JVM) at /outproc. Ctrl-C stops Tomcat and every app process.");

    /** One app from the command line: where it is and the name it gets in apps/. */
    record App(Path source, String entryName, String contextPath, boolean war) {

        /** "/shop", or "" for ROOT. */
        String displayPath() {
            return contextPath.isEmpty() ? "/" : contextPath;
        }
    }

    /** A mistake on the command line; its message is shown above the usage. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    static CommandLine parse(String... args) throws UsageException {
        int port = DEFAULT_PORT;
        boolean verbose = false;
        Path hooks = null;
        Map<String, App> apps = new LinkedHashMap<>();
        boolean optionsEnded = false;
        for (Iterator<String> rest = List.of(args).iterator(); rest.hasNext(); ) {
            String arg = rest.next();
            if (optionsEnded || !arg.startsWith("-")) {
                add(apps, app(arg));
                continue;
            }
            switch (arg.startsWith("--port=") || arg.startsWith("--hooks=") ? arg.substring(0, arg.indexOf('=')) : arg) {
                case "--" -> optionsEnded = true;
                case "--help", "-h", "-?" -> {
                    return new CommandLine(port, List.of(), verbose, true, hooks);
                }
                case "--verbose", "-v" -> verbose = true;
                case "--port", "-p" -> port = port(value(arg, rest, "a port number"));
                case "--hooks" -> hooks = hooks(value(arg, rest, "a directory"));
                default -> throw new UsageException("unknown option: " + arg);
            }
        }
        return new CommandLine(port, List.copyOf(apps.values()), verbose, false, hooks);
    }

    /** An option's value: what follows its '=', else the next argument. */
    private static String value(String arg, Iterator<String> rest, String what) throws UsageException {
        int equals = arg.indexOf('=');
        if (equals > 0) {
            return arg.substring(equals + 1);
        }
        if (!rest.hasNext()) {
            throw new UsageException(arg + " needs " + what);
        }
        return rest.next();
    }

    private static void add(Map<String, App> apps, App app) throws UsageException {
        App clash = apps.putIfAbsent(app.contextPath(), app);
        if (clash != null) {
            throw new UsageException("two apps would be served at " + app.displayPath() + ": "
                    + clash.source() + " and " + app.source() + " (an app's name is its file or directory name)");
        }
    }

    private static Path hooks(String value) throws UsageException {
        Path dir = Path.of(value).toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            throw new UsageException("--hooks: no such directory: " + dir);
        }
        return dir;
    }

    private static int port(String value) throws UsageException {
        try {
            int port = Integer.parseInt(value.trim());
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("not a port number (0-65535): " + value);
    }

    private static App app(String argument) throws UsageException {
        if (argument.isBlank()) {
            throw new UsageException("an empty APP argument");
        }
        Path path = Path.of(argument).toAbsolutePath().normalize();
        if (!Files.exists(path)) {
            throw new UsageException("no such file or directory: " + path);
        }
        if (path.getFileName() == null) {
            throw new UsageException("cannot host a file system root: " + path);
        }
        String fileName = path.getFileName().toString();
        if (Files.isDirectory(path)) {
            boolean war = Files.isDirectory(path.resolve("WEB-INF"));
            if (!war && !Files.isRegularFile(path.resolve("portico.xml"))) {
                throw new UsageException("not an app: " + path
                        + " has neither WEB-INF/ (a web application) nor portico.xml (a program to host)");
            }
            return new App(path, checkedName(fileName, path), contextPath(fileName), war);
        }
        if (!Files.isRegularFile(path) || !fileName.toLowerCase(Locale.ROOT).endsWith(".war")) {
            throw new UsageException("not a .war file or an app directory: " + path);
        }
        String name = fileName.substring(0, fileName.length() - 4);
        checkedName(name, path);
        // Portico recognises ".war" in lower case only
        return new App(path, name + ".war", contextPath(name), true);
    }

    private static String checkedName(String name, Path path) throws UsageException {
        if (name.isEmpty() || name.startsWith(".")) {
            throw new UsageException("an app's name may not be empty or start with '.': " + path);
        }
        return name;
    }

    /** Tomcat's rule, as Portico applies it: ROOT is "", "a#b" is "/a/b", anything else "/" + name. */
    static String contextPath(String name) {
        return new ContextName(name, false).getPath();
    }
}
