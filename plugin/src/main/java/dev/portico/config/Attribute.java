package dev.portico.config;

import static dev.portico.config.Attribute.Model.ANY;
import static dev.portico.config.Attribute.Model.OUT_OF_PROCESS;
import static dev.portico.config.Attribute.Scope.APP;
import static dev.portico.config.Attribute.Scope.BOTH;
import static dev.portico.config.Attribute.Scope.VALVE;
import static dev.portico.config.AttributeType.arguments;
import static dev.portico.config.AttributeType.flag;
import static dev.portico.config.AttributeType.mebibytes;
import static dev.portico.config.AttributeType.millis;
import static dev.portico.config.AttributeType.names;
import static dev.portico.config.AttributeType.pathBelowApp;
import static dev.portico.config.AttributeType.seconds;
import static dev.portico.config.AttributeType.size;
import static dev.portico.config.AttributeType.text;
import static dev.portico.config.AttributeType.timeSpan;
import static dev.portico.config.AttributeType.wholeNumber;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The table of Portico's attributes: every attribute of {@code portico.xml} and of the valve in
 * {@code server.xml}, with its type (what it accepts), default, scope and hosting model. The
 * valve's setters, {@code portico.xml}'s parsing, the app's {@link AppConfig}, the valve's MBean
 * and the reference table of docs/configuration.md all follow from it (the last two are checked
 * against it by AttributeTableTest), so adding an attribute touches this table and the code that
 * uses the value, nothing else.
 */
public enum Attribute {

    // ---- the app: portico.xml only
    HOSTING_MODEL("hostingModel", choice(HostingModel.values(), HostingModel::xmlName), null, APP, ANY,
            "Where the app runs; absent: inProcess for a WAR, outOfProcess otherwise"),
    PROCESS_PATH("processPath", text("text"), null, APP, OUT_OF_PROCESS,
            "The program to start; absent for a WAR: Portico's WAR runner"),
    ARGUMENTS("arguments", arguments(), List.of(), APP, ANY, "Arguments of the program"),
    JVM_OPTIONS("jvmOptions", arguments(), List.of(), APP, ANY,
            "JVM options of the WAR runner's child JVM"),
    AUTH_METHOD("authMethod", choice(new String[] {"NONE", "BASIC"}, Function.identity()), "NONE", APP, ANY,
            "BASIC: the front authenticates every request against the Host's realm before forwarding"),
    AUTH_ROLES("authRoles", names(), List.of("*"), APP, ANY,
            "With authMethod: roles a user needs; * is any authenticated user"),

    // ---- the app, with the valve's value as the default for every app of the Host
    STARTUP_TIME_LIMIT("startupTimeLimit", seconds(1, 3600), Duration.ofSeconds(120), BOTH, ANY,
            "Seconds an app has to be ready"),
    SHUTDOWN_TIME_LIMIT("shutdownTimeLimit", seconds(0, 600), Duration.ofSeconds(10), BOTH, ANY,
            "Seconds to drain and to exit on a stop"),
    RAPID_FAILS_PER_MINUTE("rapidFailsPerMinute", wholeNumber(0, 100), 10, BOTH, ANY,
            "Failed starts and crashes within a minute before starts back off"),
    REQUEST_TIMEOUT("requestTimeout", timeSpan(), Duration.ofMinutes(2), BOTH, ANY,
            "Longest silence of a backend while a request is forwarded"),
    STDOUT_LOG_ENABLED("stdoutLogEnabled", flag(), false, BOTH, ANY, "Capture the app's output to a file"),
    STDOUT_LOG_FILE("stdoutLogFile", text("path"), "logs/stdout", BOTH, ANY,
            "Prefix of the stdout log, relative to the app directory"),
    STDOUT_LOG_MAX_SIZE("stdoutLogMaxSize", size(), 0L, BOTH, ANY,
            "Size at which the stdout log is rotated; 0: never"),
    STDOUT_LOG_MAX_FILES("stdoutLogMaxFiles", wholeNumber(1, 1000), 10, BOTH, ANY,
            "Files one process's stdout log keeps"),
    DISABLE_START_UP_ERROR_PAGE("disableStartUpErrorPage", flag(), false, BOTH, ANY,
            "Error pages without process output or file names"),
    FORWARD_PRINCIPAL("forwardPrincipal", flag(), false, BOTH, ANY,
            "Send the authenticated user and roles to the backend"),
    PRELOAD_ENABLED("preloadEnabled", flag(), false, BOTH, ANY, "Start the app when it is deployed"),
    PRESERVE_HOST_HEADER("preserveHostHeader", flag(), true, BOTH, ANY,
            "The backend gets the Host the client addressed"),
    TRANSPORT("transport", choice(BackendTransport.values(), BackendTransport::xmlName), BackendTransport.TCP, BOTH,
            OUT_OF_PROCESS, "How the front reaches the app's processes"),

    // ---- the pool of an out-of-process app's processes
    PROCESSES_PER_APPLICATION("processesPerApplication", wholeNumber(1, 64), 1, BOTH, OUT_OF_PROCESS,
            "Processes serving the app at once"),
    STICKY_SESSIONS("stickySessions", flag(), false, BOTH, OUT_OF_PROCESS,
            "A cookie sends a client back to the same process"),
    READINESS_PATH("readinessPath", pathBelowApp(), null, BOTH, OUT_OF_PROCESS,
            "Path that answers 2xx once a process is ready; absent: its port accepting"),
    HEALTH_CHECK_INTERVAL("healthCheckInterval", seconds(0, 3600), Duration.ZERO, BOTH, OUT_OF_PROCESS,
            "Seconds between health checks of ready processes; 0: none"),
    MAX_CONSECUTIVE_FAILURES("maxConsecutiveFailures", wholeNumber(0, 1000), 5, BOTH, OUT_OF_PROCESS,
            "Gateway failures in a row that take a process out of rotation; 0: never"),
    BACKOFF_INITIAL_DELAY_MS("backoffInitialDelayMs", millis(1, 60_000), Duration.ofMillis(100), BOTH,
            OUT_OF_PROCESS, "First wait of the backoff between failed starts"),
    BACKOFF_MAX_DELAY_MS("backoffMaxDelayMs", millis(1, 3_600_000), Duration.ofSeconds(30), BOTH, OUT_OF_PROCESS,
            "Longest wait between failed starts"),
    MAX_REQUESTS_PER_PROCESS("maxRequestsPerProcess", wholeNumber(0, Integer.MAX_VALUE), 0, BOTH, OUT_OF_PROCESS,
            "Requests after which a process is replaced; 0: never"),
    MEMORY_LIMIT("memoryLimit", mebibytes(0, 1024 * 1024), 0, BOTH, OUT_OF_PROCESS,
            "MiB of resident memory above which a process is replaced; 0: no limit"),
    IDLE_TIMEOUT("idleTimeout", seconds(0, 30 * 86400), Duration.ZERO, BOTH, OUT_OF_PROCESS,
            "Seconds without a request after which the app's processes stop; 0: never"),
    MAX_QUEUED_REQUESTS("maxQueuedRequests", wholeNumber(0, 1_000_000), 0, BOTH, OUT_OF_PROCESS,
            "Requests that may wait for a ready process; 0: no limit"),

    // ---- the valve only
    APP_BASE("appBase", text("path"), "apps", VALVE, ANY, "Directory of the hosted apps"),
    SCAN_INTERVAL("scanInterval", millis(10, 60_000), Duration.ofMillis(200), VALVE, ANY,
            "Milliseconds between two looks at the changes reported in appBase"),
    RESCAN_INTERVAL("rescanInterval", seconds(1, 3600), Duration.ofSeconds(60), VALVE, ANY,
            "Seconds between two full rescans of appBase"),
    STATUS_PATH("statusPath", text("path"), "", VALVE, ANY, "Path of the status page; empty: off"),
    STATUS_ROLES("statusRoles", text("comma-separated names"), "", VALVE, ANY,
            "Roles that may read the status page from other addresses than loopback"),
    HOOKS_PATH("hooksPath", text("path"), "portico/hooks", VALVE, ANY,
            "Directory of the lifecycle hook jars; absent: no hooks"),
    HOOK_TIME_LIMIT("hookTimeLimit", seconds(1, 300), Duration.ofSeconds(5), VALVE, ANY,
            "Seconds one hook observer may take with one event"),
    FORWARDING_THREADS("forwardingThreads", wholeNumber(4, 10_000), 64, VALVE, ANY,
            "Maximum threads of the forwarding client"),
    BACKEND_IDLE_TIMEOUT("backendIdleTimeout", millis(100, 600_000), Duration.ofMillis(1000), VALVE, ANY,
            "Milliseconds a connection to a backend may stay idle and still be reused");

    /** Where an attribute is written. */
    public enum Scope {
        /** In portico.xml only. */
        APP,
        /** On the valve only. */
        VALVE,
        /** In portico.xml, and on the valve as the default for every app of the Host. */
        BOTH;

        public boolean inPorticoXml() {
            return this != VALVE;
        }

        public boolean onValve() {
            return this != APP;
        }
    }

    /** The hosting models an app attribute applies to; in portico.xml it is refused for any other. */
    public enum Model {
        ANY(null), OUT_OF_PROCESS(HostingModel.OUT_OF_PROCESS), IN_PROCESS(HostingModel.IN_PROCESS);

        private final HostingModel only;

        Model(HostingModel only) {
            this.only = only;
        }

        /** The one hosting model it applies to; null when it applies to both. */
        public HostingModel only() {
            return only;
        }

        public boolean allows(HostingModel model) {
            return only == null || only == model;
        }
    }

    private static final Map<String, Attribute> BY_NAME = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(Attribute::xmlName, Function.identity()));

    private final String xmlName;
    private final AttributeType<Object> type;
    private final Object defaultValue;
    private final Scope scope;
    private final Model model;
    private final String doc;

    @SuppressWarnings("unchecked")
    Attribute(String xmlName, AttributeType<?> type, Object defaultValue, Scope scope, Model model, String doc) {
        this.xmlName = xmlName;
        this.type = (AttributeType<Object>) type;
        this.defaultValue = defaultValue;
        this.scope = scope;
        this.model = model;
        this.doc = doc;
    }

    private static <E> AttributeType<E> choice(E[] choices, Function<E, String> name) {
        return AttributeType.choice(List.of(choices), name);
    }

    /** The attribute of that name (as written in portico.xml and server.xml), or null. */
    public static Attribute named(String name) {
        return BY_NAME.get(name);
    }

    public String xmlName() {
        return xmlName;
    }

    public AttributeType<Object> type() {
        return type;
    }

    /** The value when neither portico.xml nor the valve sets it; null for none. */
    public Object defaultValue() {
        return defaultValue;
    }

    public Scope scope() {
        return scope;
    }

    public Model model() {
        return model;
    }

    /** One line on what it is (the valve's MBean describes its attributes with it). */
    public String doc() {
        return doc;
    }

    /**
     * The value of the text as written: null when it is absent or blank (as if not written).
     *
     * @throws IllegalArgumentException whose message says what is accepted
     */
    public Object parse(String text) {
        return text == null || text.isBlank() ? null : type.parse(text.trim());
    }
}
