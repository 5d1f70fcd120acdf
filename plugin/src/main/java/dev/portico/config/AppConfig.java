package dev.portico.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The effective configuration of one hosted app: its {@code portico.xml} over the valve's
 * defaults, validated, with relative paths already resolved against the app directory.
 *
 * @param appDirectory the directory relative paths resolve against
 * @param configFile the {@code portico.xml} read, or null when the app has none
 * @param war true when the app is a web application (a WAR file or a directory with WEB-INF)
 * @param processPath the program to start (out-of-process); null means Portico's WAR runner
 * @param stdoutLogFile the prefix of the stdout log: {@code <prefix>_<yyyyMMddHHmmss>_<pid>.log}
 * @param stdoutLogMaxSize bytes at which the stdout log is rotated; 0 never rotates
 * @param stdoutLogMaxFiles files one process's stdout log keeps, the one being written included
 * @param authMethod NONE or BASIC: how the front authenticates users before forwarding
 * @param authRoles roles a user needs when authMethod is not NONE; {@code *} means any role
 * @param jvmOptions JVM options for the WAR runner's child JVM
 * @param preloadEnabled start the app when it is deployed (and when it comes back online), not on its first request
 * @param preserveHostHeader forward the client's Host (the authority it addressed) rather than the backend's loopback address
 * @param transport how the front reaches the app's processes: a loopback port, or a Unix domain socket
 * @param pool how an out-of-process app's processes are pooled, probed and replaced
 */
public record AppConfig(
        Path appDirectory,
        Path configFile,
        boolean war,
        HostingModel hostingModel,
        String processPath,
        List<String> arguments,
        Map<String, String> environmentVariables,
        boolean stdoutLogEnabled,
        Path stdoutLogFile,
        long stdoutLogMaxSize,
        int stdoutLogMaxFiles,
        Duration startupTimeLimit,
        Duration shutdownTimeLimit,
        int rapidFailsPerMinute,
        Duration requestTimeout,
        boolean disableStartUpErrorPage,
        boolean forwardPrincipal,
        String authMethod,
        List<String> authRoles,
        List<String> jvmOptions,
        boolean preloadEnabled,
        boolean preserveHostHeader,
        BackendTransport transport,
        PoolConfig pool) {

    public AppConfig {
        arguments = List.copyOf(arguments);
        environmentVariables = Map.copyOf(environmentVariables);
        authRoles = List.copyOf(authRoles);
        jvmOptions = List.copyOf(jvmOptions);
    }

    public boolean usesWarRunner() {
        return hostingModel == HostingModel.OUT_OF_PROCESS && processPath == null;
    }

    public boolean requiresAuthentication() {
        return !"NONE".equals(authMethod);
    }
}
