package dev.portico.integration.runner;

import dev.portico.integration.BackendContract;
import dev.portico.integration.PorticoEnvironment;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The WAR runner's command line and environment, checked before anything starts.
 *
 * @param app         the .war file or exploded web application directory
 * @param port        the loopback port to listen on ({@code 0}: any free port, for manual runs); -1 with a socket
 * @param socket      the Unix domain socket to listen on instead ({@code PORTICO_SOCKET}), or {@code null}
 * @param pathBase    the context path, {@code ""} for the root application
 * @param workDir     Tomcat's base directory, or {@code null} for a fresh temporary one
 * @param environment the whole environment, handed to the integration
 */
record RunnerConfig(Path app, int port, Path socket, String pathBase, Path workDir,
                    Map<String, String> environment) {

    static RunnerConfig parse(String[] args, Map<String, String> environment) {
        if (args.length != 1 || args[0].isBlank()) {
            throw new IllegalArgumentException(
                    "expected exactly one argument: a .war file or an exploded web application directory");
        }
        String socket = environment.get(BackendContract.SOCKET);
        boolean unix = socket != null && !socket.isBlank();
        return new RunnerConfig(app(args[0]), unix ? -1 : port(environment), unix ? Path.of(socket) : null,
                pathBase(environment), workDir(environment), environment);
    }

    private static Path app(String argument) {
        Path app = Path.of(argument).toAbsolutePath().normalize();
        if (Files.isDirectory(app)) {
            return app;
        }
        if (!Files.isRegularFile(app)) {
            throw new IllegalArgumentException("no such file or directory: " + app);
        }
        if (!app.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".war")) {
            throw new IllegalArgumentException("not a .war file or a directory: " + app);
        }
        return app;
    }

    private static int port(Map<String, String> environment) {
        String value = required(environment, BackendContract.PORT);
        try {
            int port = Integer.parseInt(value.trim());
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(BackendContract.PORT + " is not a port number: " + value);
    }

    private static String pathBase(Map<String, String> environment) {
        // The token is not read here, but a runner without one would serve anybody on the host:
        // refuse to start rather than run unprotected.
        required(environment, BackendContract.TOKEN);
        String value = environment.getOrDefault(BackendContract.PATH_BASE, "");
        String pathBase = PorticoEnvironment.normalizePathBase(value);
        if (!pathBase.isEmpty() && (!pathBase.startsWith("/") || pathBase.endsWith("/"))) {
            throw new IllegalArgumentException(BackendContract.PATH_BASE
                    + " must be empty or start with '/' and not end with one: " + value);
        }
        return pathBase;
    }

    private static Path workDir(Map<String, String> environment) {
        String value = environment.get(BackendContract.WORK_DIR);
        return value == null || value.isBlank() ? null : Path.of(value).toAbsolutePath();
    }

    private static String required(Map<String, String> environment, String name) {
        String value = environment.get(name);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " is not set");
        }
        return value;
    }

    @Override
    public String toString() {
        // The environment holds the token.
        return "RunnerConfig[app=" + app + ", port=" + port + ", socket=" + socket + ", pathBase=" + pathBase
                + ", workDir=" + workDir + "]";
    }
}
