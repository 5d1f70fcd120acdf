package dev.portico.process;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.portico.config.AppConfig;

/** Builds and starts the command line and environment of one backend process (the backend contract). */
final class ProcessLauncher {

    static final String WAR_RUNNER_MAIN = "dev.portico.integration.runner.WarRunner";

    private final AppConfig config;
    private final String contextPath;
    private final Path warLocation;

    ProcessLauncher(AppConfig config, String contextPath, Path warLocation) {
        this.config = config;
        this.contextPath = contextPath;
        this.warLocation = warLocation;
    }

    List<String> command() {
        List<String> command = new ArrayList<>();
        if (config.usesWarRunner()) {
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(config.jvmOptions());
            command.add("-cp");
            command.add(String.join(File.pathSeparator, WarRunnerClasspath.entries()));
            command.add(WAR_RUNNER_MAIN);
            command.add(warLocation.toString());
        } else {
            command.add(config.processPath());
        }
        command.addAll(config.arguments());
        return command;
    }

    Process start(int port, String token) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command())
                .directory(config.appDirectory().toFile())
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Map<String, String> env = builder.environment();
        env.putAll(config.environmentVariables());
        env.put("PORTICO_PORT", Integer.toString(port));
        env.put("PORTICO_TOKEN", token);
        env.put("PORTICO_PATH_BASE", contextPath);
        env.put("PORTICO_PARENT_PID", Long.toString(ProcessHandle.current().pid()));
        env.put("PORTICO_HOSTING_MODEL", config.hostingModel().xmlName());
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
