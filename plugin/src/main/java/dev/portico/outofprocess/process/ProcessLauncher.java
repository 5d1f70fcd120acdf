package dev.portico.outofprocess.process;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import dev.portico.config.AppConfig;
import dev.portico.config.Placeholders;
import dev.portico.integration.BackendContract;
import dev.portico.outofprocess.backend.BackendAddress;

/** Builds and starts the command line and environment of one backend process (the backend contract). */
public final class ProcessLauncher {

    static final String WAR_RUNNER_MAIN = "dev.portico.integration.runner.WarRunner";

    private final AppConfig config;
    private final String contextPath;
    private final Path warLocation;

    public ProcessLauncher(AppConfig config, String contextPath, Path warLocation) {
        this.config = config;
        this.contextPath = contextPath;
        this.warLocation = warLocation;
    }

    /** The command line as written in portico.xml (variable references not expanded: it is shown on error pages). */
    public List<String> command() {
        return command(null);
    }

    /** The command line with {@code %NAME%} / {@code ${NAME}} in jvmOptions and arguments expanded from {@code variables}, if not null. */
    private List<String> command(Function<String, String> variables) {
        List<String> command = new ArrayList<>();
        if (config.usesWarRunner()) {
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            expandInto(config.jvmOptions(), variables, command);
            command.add("-cp");
            command.add(String.join(File.pathSeparator, WarRunnerClasspath.entries()));
            command.add(WAR_RUNNER_MAIN);
            command.add(warLocation.toString());
        } else {
            command.add(config.processPath());
        }
        expandInto(config.arguments(), variables, command);
        return command;
    }

    private static void expandInto(List<String> arguments, Function<String, String> variables, List<String> command) {
        for (String argument : arguments) {
            command.add(variables == null ? argument : Placeholders.expand(argument, variables));
        }
    }

    /**
     * The app's environmentVariables are expanded against Tomcat's environment and Portico's
     * variables; the arguments against the process's whole environment. PorticoXml has checked
     * every {@code ${NAME}} against the same names, so no expansion fails here.
     *
     * @param extraArguments appended to the command line as given (from the processStarting hooks)
     * @param extraEnvironment added to the environment after the app's own variables, below Portico's
     */
    public Process start(BackendAddress address, String token, List<String> extraArguments, Map<String, String> extraEnvironment)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder()
                .directory(config.appDirectory().toFile())
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Map<String, String> env = builder.environment();
        Map<String, String> contract = Map.of(
                address.isUnix() ? BackendContract.SOCKET : BackendContract.PORT,
                address.isUnix() ? address.socket().toString() : Integer.toString(address.port()),
                BackendContract.TOKEN, token,
                BackendContract.PATH_BASE, contextPath,
                BackendContract.PARENT_PID, Long.toString(ProcessHandle.current().pid()),
                BackendContract.HOSTING_MODEL, config.hostingModel().xmlName());
        Map<String, String> inherited = new HashMap<>(env);
        inherited.putAll(contract);
        config.environmentVariables().forEach((name, value) -> env.put(name, Placeholders.expand(value, inherited::get)));
        env.putAll(extraEnvironment);
        env.putAll(contract);
        List<String> command = command(env::get);
        command.addAll(extraArguments);
        builder.command(command);
        // The JDK waits for the child on a pooled "process reaper" thread, started here when none is
        // idle, and that thread inherits this one's context loader: on a request thread, the loader
        // of a Context, which the reaper would keep alive after the Context is gone.
        Thread current = Thread.currentThread();
        ClassLoader caller = current.getContextClassLoader();
        current.setContextClassLoader(ProcessLauncher.class.getClassLoader());
        try {
            return builder.start();
        } finally {
            current.setContextClassLoader(caller);
        }
    }
}
