package dev.portico.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The effective configuration of one hosted app: a value for every app attribute of the
 * {@link Attribute} table (its {@code portico.xml} over the valve's defaults, validated) and
 * the {@code environmentVariables} element, read once by {@link PorticoXml}. The accessors give
 * the values their Java types; relative paths are resolved against the app directory.
 */
public final class AppConfig {

    private final Path appDirectory;
    private final Path configFile;
    private final boolean war;
    private final Map<Attribute, Object> values;
    private final Map<String, String> environmentVariables;
    private final PoolConfig pool;

    /**
     * @param appDirectory the directory relative paths resolve against
     * @param configFile the {@code portico.xml} read, or null when the app has none
     * @param war true when the app is a web application (a WAR file or a directory with WEB-INF)
     * @param values a value (null for none) for every attribute of the table that portico.xml has
     */
    AppConfig(Path appDirectory, Path configFile, boolean war, Map<Attribute, Object> values,
            Map<String, String> environmentVariables) {
        this.appDirectory = appDirectory;
        this.configFile = configFile;
        this.war = war;
        this.values = Collections.unmodifiableMap(new EnumMap<>(values));
        this.environmentVariables = Map.copyOf(environmentVariables);
        this.pool = new PoolConfig(this);
    }

    /** The value of an app attribute, of its type's Java type. */
    @SuppressWarnings("unchecked")
    <T> T value(Attribute attribute) {
        return (T) values.get(attribute);
    }

    public Path appDirectory() {
        return appDirectory;
    }

    public Path configFile() {
        return configFile;
    }

    public boolean war() {
        return war;
    }

    public HostingModel hostingModel() {
        return value(Attribute.HOSTING_MODEL);
    }

    /** The program to start (out-of-process); null means Portico's WAR runner. */
    public String processPath() {
        return value(Attribute.PROCESS_PATH);
    }

    public List<String> arguments() {
        return value(Attribute.ARGUMENTS);
    }

    public Map<String, String> environmentVariables() {
        return environmentVariables;
    }

    public boolean stdoutLogEnabled() {
        return value(Attribute.STDOUT_LOG_ENABLED);
    }

    /** The prefix of the stdout log: {@code <prefix>_<yyyyMMddHHmmss>_<pid>.log}. */
    public Path stdoutLogFile() {
        return appDirectory.resolve((String) value(Attribute.STDOUT_LOG_FILE)).normalize();
    }

    /** Bytes at which the stdout log is rotated; 0 never rotates. */
    public long stdoutLogMaxSize() {
        return value(Attribute.STDOUT_LOG_MAX_SIZE);
    }

    /** Files one process's stdout log keeps, the one being written included. */
    public int stdoutLogMaxFiles() {
        return value(Attribute.STDOUT_LOG_MAX_FILES);
    }

    public Duration startupTimeLimit() {
        return value(Attribute.STARTUP_TIME_LIMIT);
    }

    public Duration shutdownTimeLimit() {
        return value(Attribute.SHUTDOWN_TIME_LIMIT);
    }

    public int rapidFailsPerMinute() {
        return value(Attribute.RAPID_FAILS_PER_MINUTE);
    }

    public Duration requestTimeout() {
        return value(Attribute.REQUEST_TIMEOUT);
    }

    public boolean disableStartUpErrorPage() {
        return value(Attribute.DISABLE_START_UP_ERROR_PAGE);
    }

    public boolean forwardPrincipal() {
        return value(Attribute.FORWARD_PRINCIPAL);
    }

    /** NONE or BASIC: how the front authenticates users before forwarding. */
    public String authMethod() {
        return value(Attribute.AUTH_METHOD);
    }

    /** Roles a user needs when authMethod is not NONE; {@code *} means any role. */
    public List<String> authRoles() {
        return value(Attribute.AUTH_ROLES);
    }

    public List<String> jvmOptions() {
        return value(Attribute.JVM_OPTIONS);
    }

    /** Start the app when it is deployed (and when it comes back online), not on its first request. */
    public boolean preloadEnabled() {
        return value(Attribute.PRELOAD_ENABLED);
    }

    /** Forward the client's Host (the authority it addressed) rather than the backend's loopback address. */
    public boolean preserveHostHeader() {
        return value(Attribute.PRESERVE_HOST_HEADER);
    }

    /** How the front reaches the app's processes: a loopback port, or a Unix domain socket. */
    public BackendTransport transport() {
        return value(Attribute.TRANSPORT);
    }

    /** How an out-of-process app's processes are pooled, probed and replaced. */
    public PoolConfig pool() {
        return pool;
    }

    public boolean usesWarRunner() {
        return hostingModel() == HostingModel.OUT_OF_PROCESS && processPath() == null;
    }

    public boolean requiresAuthentication() {
        return !"NONE".equals(authMethod());
    }
}
