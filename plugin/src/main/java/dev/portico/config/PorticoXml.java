package dev.portico.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;

import org.w3c.dom.Attr;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

import dev.portico.integration.BackendContract;

/**
 * Reads {@code portico.xml}, the app's counterpart of ANCM's {@code aspNetCore} element. Unknown
 * attributes and elements are errors rather than silently ignored: a misspelt attribute that
 * quietly falls back to a default is the kind of mistake that costs an administrator an evening.
 */
public final class PorticoXml {

    public static final String FILE_NAME = "portico.xml";

    private static final Set<String> ATTRIBUTES = Set.of(
            "hostingModel", "processPath", "arguments", "stdoutLogEnabled", "stdoutLogFile", "stdoutLogMaxSize",
            "stdoutLogMaxFiles",
            "startupTimeLimit", "shutdownTimeLimit", "rapidFailsPerMinute", "requestTimeout",
            "disableStartUpErrorPage", "forwardPrincipal", "authMethod", "authRoles", "jvmOptions",
            "preloadEnabled", "preserveHostHeader", "transport", "processesPerApplication", "stickySessions", "readinessPath", "healthCheckInterval",
            "maxConsecutiveFailures", "backoffInitialDelayMs", "backoffMaxDelayMs", "maxRequestsPerProcess",
            "memoryLimit", "idleTimeout", "maxQueuedRequests");

    /** The attributes of the process pool, which only an out-of-process app has. */
    private static final List<String> POOL_ATTRIBUTES = List.of("processesPerApplication", "stickySessions",
            "readinessPath", "healthCheckInterval", "maxConsecutiveFailures", "backoffInitialDelayMs",
            "backoffMaxDelayMs", "maxRequestsPerProcess", "memoryLimit", "idleTimeout", "maxQueuedRequests");

    /** Far more than any real portico.xml; reading stops here, so a huge or endless file costs nothing. */
    static final int MAX_BYTES = 1024 * 1024;
    private static final String DISALLOW_DOCTYPE = "http://apache.org/xml/features/disallow-doctype-decl";

    private static final Pattern TIME_SPAN = Pattern.compile("(?:(\\d+)\\.)?(\\d{1,2}):(\\d{1,2}):(\\d{1,2})");

    private final HostingDefaults defaults;

    public PorticoXml(HostingDefaults defaults) {
        this.defaults = defaults;
    }

    /** The configuration of an app that has no portico.xml: a WAR hosted in-process with defaults. */
    public AppConfig defaultsFor(Path appDirectory, boolean war) {
        return new AppConfig(appDirectory, null, war, HostingModel.IN_PROCESS, null, List.of(), Map.of(),
                defaults.stdoutLogEnabled(), appDirectory.resolve(defaults.stdoutLogFile()).normalize(),
                defaults.stdoutLogMaxSize(), defaults.stdoutLogMaxFiles(),
                defaults.startupTimeLimit(), defaults.shutdownTimeLimit(), defaults.rapidFailsPerMinute(),
                defaults.requestTimeout(), defaults.disableStartUpErrorPage(), defaults.forwardPrincipal(),
                "NONE", List.of(), List.of(), defaults.preloadEnabled(), defaults.preserveHostHeader(),
                defaults.transport(), PoolConfig.DEFAULT);
    }

    public AppConfig read(Path configFile, Path appDirectory, boolean war) throws ConfigException {
        // checked before opening: opening a FIFO blocks the scanning thread until a writer comes
        if (Files.isDirectory(configFile)) {
            throw new ConfigException(configFile, "is a directory, not a file (a container bind mount of a file"
                    + " that did not exist on the host creates one)", null);
        }
        if (!Files.isRegularFile(configFile)) {
            throw new ConfigException(configFile, Files.exists(configFile)
                    ? "is not a regular file (a pipe, socket or device?)"
                    : "cannot be read: it is a symbolic link to nothing", null);
        }
        try (InputStream in = Files.newInputStream(configFile)) {
            return read(in, configFile, appDirectory, war);
        } catch (IOException e) {
            throw new ConfigException(configFile, "cannot be read (" + Excerpt.of(e.getMessage()) + ")", e);
        }
    }

    /**
     * @param source the file name used in error messages (a WAR's entry is named {@code x.war!/WEB-INF/portico.xml})
     */
    public AppConfig read(InputStream in, Path source, Path appDirectory, boolean war) throws ConfigException {
        byte[] content = readCapped(in, source);
        if (content.length == 0) {
            throw new ConfigException(source, "is empty (it needs at least <portico/>)", null);
        }
        Element root = parse(new ByteArrayInputStream(content), source).getDocumentElement();
        if (!"portico".equals(root.getTagName())) {
            throw new ConfigException(source, null, null,
                    "the root element must be <portico>, found <" + Excerpt.of(root.getTagName()) + ">");
        }
        Attributes attributes = new Attributes(root, source);

        HostingModel model = attributes.hostingModel(war);
        String processPath = attributes.text("processPath", null);
        if (processPath != null) {
            processPath = resolveProgram(processPath, appDirectory);
        }
        if (model == HostingModel.OUT_OF_PROCESS && processPath == null && !war) {
            throw new ConfigException(source, "processPath", null,
                    "is required for an out-of-process app that is not a WAR (there is no WEB-INF to run)");
        }
        if (model == HostingModel.IN_PROCESS && processPath != null) {
            throw new ConfigException(source, "processPath", processPath,
                    "is only used with hostingModel=\"outOfProcess\"");
        }
        String authMethod = attributes.authMethod();
        List<String> authRoles = attributes.list("authRoles", List.of("*"));

        BackendTransport transport = attributes.transport(model, defaults.transport());
        Map<String, String> environment = environmentVariables(root, source);
        List<String> arguments = attributes.arguments("arguments");
        List<String> jvmOptions = attributes.arguments("jvmOptions");
        checkReferences(source, model, transport, environment, arguments, jvmOptions);

        return new AppConfig(appDirectory, source, war, model, processPath,
                arguments,
                environment,
                attributes.bool("stdoutLogEnabled", defaults.stdoutLogEnabled()),
                appDirectory.resolve(attributes.text("stdoutLogFile", defaults.stdoutLogFile())).normalize(),
                attributes.size("stdoutLogMaxSize", defaults.stdoutLogMaxSize()),
                attributes.integer("stdoutLogMaxFiles", defaults.stdoutLogMaxFiles(), 1, HostingDefaults.MAX_STDOUT_LOG_FILES),
                attributes.seconds("startupTimeLimit", defaults.startupTimeLimit(), 1, 3600),
                attributes.seconds("shutdownTimeLimit", defaults.shutdownTimeLimit(), 0, 600),
                attributes.integer("rapidFailsPerMinute", defaults.rapidFailsPerMinute(), 0, 100),
                attributes.timeSpan("requestTimeout", defaults.requestTimeout()),
                attributes.bool("disableStartUpErrorPage", defaults.disableStartUpErrorPage()),
                attributes.bool("forwardPrincipal", defaults.forwardPrincipal()),
                authMethod, authRoles,
                jvmOptions,
                attributes.bool("preloadEnabled", defaults.preloadEnabled()),
                attributes.bool("preserveHostHeader", defaults.preserveHostHeader()),
                transport,
                pool(attributes, model, source));
    }

    /**
     * Every {@code ${NAME}} must name a variable that will be set where it is expanded (see
     * {@link Placeholders}): environmentVariables' values see Tomcat's environment and, out of
     * process, Portico's {@code PORTICO_*} variables; arguments and jvmOptions see the process's
     * whole environment, the app's own variables included. Checked here so that a misspelt name
     * is a 500.19 naming the attribute, not a start failure.
     */
    private static void checkReferences(Path source, HostingModel model, BackendTransport transport,
            Map<String, String> environment, List<String> arguments, List<String> jvmOptions) throws ConfigException {
        Set<String> inherited = new HashSet<>(System.getenv().keySet());
        if (model == HostingModel.OUT_OF_PROCESS) {
            inherited.addAll(BackendContract.environmentNames(transport == BackendTransport.UNIX));
        }
        for (Map.Entry<String, String> variable : environment.entrySet()) {
            check(source, "environmentVariable[@name='" + variable.getKey() + "']/@value", variable.getValue(), inherited);
        }
        Set<String> processEnvironment = new HashSet<>(inherited);
        processEnvironment.addAll(environment.keySet());
        for (String argument : arguments) {
            check(source, "arguments", argument, processEnvironment);
        }
        for (String option : jvmOptions) {
            check(source, "jvmOptions", option, processEnvironment);
        }
    }

    private static void check(Path source, String attribute, String value, Set<String> known) throws ConfigException {
        try {
            Placeholders.expand(value, name -> known.contains(name) ? "" : null);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(source, attribute, value, e.getMessage());
        }
    }

    private static PoolConfig pool(Attributes attributes, HostingModel model, Path source) throws ConfigException {
        PoolConfig d = PoolConfig.DEFAULT;
        String readinessPath = attributes.text("readinessPath", null);
        if (readinessPath != null && (!readinessPath.startsWith("/") || readinessPath.contains("..")
                || !readinessPath.matches("[\\x21-\\x7e]+"))) {
            throw new ConfigException(source, "readinessPath", readinessPath,
                    "must be a path below the app starting with '/', such as /healthz (no spaces, no '..')");
        }
        PoolConfig pool = new PoolConfig(
                attributes.integer("processesPerApplication", d.processes(), 1, 64),
                attributes.bool("stickySessions", d.stickySessions()),
                readinessPath,
                attributes.seconds("healthCheckInterval", d.healthCheckInterval(), 0, 3600),
                attributes.integer("maxConsecutiveFailures", d.maxConsecutiveFailures(), 0, 1000),
                Duration.ofMillis(attributes.integer("backoffInitialDelayMs", (int) d.backoffInitialDelay().toMillis(), 1, 60_000)),
                Duration.ofMillis(attributes.integer("backoffMaxDelayMs", (int) d.backoffMaxDelay().toMillis(), 1, 3_600_000)),
                attributes.integer("maxRequestsPerProcess", (int) d.maxRequestsPerProcess(), 0, Integer.MAX_VALUE),
                attributes.integer("memoryLimit", 0, 0, 1024 * 1024) * 1024L * 1024L,
                attributes.seconds("idleTimeout", d.idleTimeout(), 0, 30 * 86400),
                attributes.integer("maxQueuedRequests", d.maxQueuedRequests(), 0, 1_000_000));
        if (pool.backoffMaxDelay().compareTo(pool.backoffInitialDelay()) < 0) {
            throw new ConfigException(source, "backoffMaxDelayMs", String.valueOf(pool.backoffMaxDelay().toMillis()),
                    "must not be less than backoffInitialDelayMs (" + pool.backoffInitialDelay().toMillis() + ")");
        }
        if (model == HostingModel.IN_PROCESS) {
            for (String name : POOL_ATTRIBUTES) {
                String value = attributes.text(name, null);
                if (value != null) {
                    throw new ConfigException(source, name, value, "applies only with hostingModel=\"outOfProcess\"");
                }
            }
        }
        return pool;
    }

    /** A bare program name ("node") is looked up on PATH by the OS; anything with a slash is a path. */
    private static String resolveProgram(String processPath, Path appDirectory) {
        if (!processPath.contains("/") && !processPath.contains("\\")) {
            return processPath;
        }
        return appDirectory.resolve(processPath).normalize().toString();
    }

    /** The whole file, or an error when it is larger than {@value #MAX_BYTES} bytes (never more is read). */
    private static byte[] readCapped(InputStream in, Path source) throws ConfigException {
        try {
            byte[] content = in.readNBytes(MAX_BYTES + 1);
            if (content.length > MAX_BYTES) {
                throw new ConfigException(source, "is larger than 1 MiB; a portico.xml is a few lines", null);
            }
            return content;
        } catch (IOException e) {
            throw new ConfigException(source, "cannot be read (" + Excerpt.of(e.getMessage()) + ")", e);
        }
    }

    private static Document parse(InputStream in, Path source) throws ConfigException {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            // no DTD at all: no external entities (XXE), no entity expansion (billion laughs)
            factory.setFeature(DISALLOW_DOCTYPE, true);
            factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            factory.setXIncludeAware(false);
            factory.setExpandEntityReferences(false);
            DocumentBuilder builder = factory.newDocumentBuilder();
            // the parser's default handler prints every fatal error to stderr before throwing it
            builder.setErrorHandler(new ErrorHandler() {
                @Override
                public void warning(SAXParseException e) {
                }

                @Override
                public void error(SAXParseException e) throws SAXException {
                    throw e;
                }

                @Override
                public void fatalError(SAXParseException e) throws SAXException {
                    throw e;
                }
            });
            return builder.parse(in);
        } catch (SAXParseException e) {
            String message = e.getMessage() != null && e.getMessage().contains(DISALLOW_DOCTYPE)
                    ? "DOCTYPE is not allowed (Portico reads no DTD and no entities)" : Excerpt.of(e.getMessage());
            throw new ConfigException(source, "is not well-formed XML at line " + e.getLineNumber()
                    + ", column " + e.getColumnNumber() + ": " + message, e);
        } catch (SAXException | IOException | ParserConfigurationException e) {
            throw new ConfigException(source, "cannot be parsed: " + Excerpt.of(e.getMessage()), e);
        }
    }

    private static Map<String, String> environmentVariables(Element root, Path source) throws ConfigException {
        Map<String, String> variables = new LinkedHashMap<>();
        for (Node child = root.getFirstChild(); child != null; child = child.getNextSibling()) {
            if (child.getNodeType() != Node.ELEMENT_NODE) {
                continue;
            }
            Element element = (Element) child;
            if (!"environmentVariables".equals(element.getTagName())) {
                throw new ConfigException(source, null, null,
                        "unknown element <" + Excerpt.of(element.getTagName()) + "> (expected <environmentVariables>)");
            }
            for (Node item = element.getFirstChild(); item != null; item = item.getNextSibling()) {
                if (item.getNodeType() != Node.ELEMENT_NODE) {
                    continue;
                }
                Element variable = (Element) item;
                if (!"environmentVariable".equals(variable.getTagName())) {
                    throw new ConfigException(source, null, null, "unknown element <" + Excerpt.of(variable.getTagName())
                            + "> inside <environmentVariables> (expected <environmentVariable name=\"…\" value=\"…\"/>)");
                }
                String name = variable.getAttribute("name");
                if (name.isEmpty() || name.contains("=") || name.indexOf('\0') >= 0) {
                    throw new ConfigException(source, "environmentVariable/@name", name,
                            "must be a non-empty name without '='");
                }
                variables.put(name, variable.getAttribute("value"));
            }
        }
        return variables;
    }

    /** Typed access to the root's attributes, every failure naming the attribute and its value. */
    private static final class Attributes {
        private final Element root;
        private final Path source;

        Attributes(Element root, Path source) throws ConfigException {
            this.root = root;
            this.source = source;
            NamedNodeMap all = root.getAttributes();
            for (int i = 0; i < all.getLength(); i++) {
                Attr attr = (Attr) all.item(i);
                if (!ATTRIBUTES.contains(attr.getName())) {
                    throw new ConfigException(source, attr.getName(), attr.getValue(),
                            "unknown attribute (known: " + String.join(", ", ATTRIBUTES.stream().sorted().toList()) + ")");
                }
            }
        }

        String text(String name, String fallback) {
            if (!root.hasAttribute(name)) {
                return fallback;
            }
            String value = root.getAttribute(name).trim();
            return value.isEmpty() ? fallback : value;
        }

        HostingModel hostingModel(boolean war) throws ConfigException {
            String value = text("hostingModel", null);
            if (value == null) {
                return war ? HostingModel.IN_PROCESS : HostingModel.OUT_OF_PROCESS;
            }
            HostingModel model = HostingModel.parse(value);
            if (model == null) {
                throw new ConfigException(source, "hostingModel", value, "must be inProcess or outOfProcess");
            }
            if (model == HostingModel.IN_PROCESS && !war) {
                throw new ConfigException(source, "hostingModel", value,
                        "inProcess needs a web application (a WAR or a directory with WEB-INF)");
            }
            return model;
        }

        boolean bool(String name, boolean fallback) throws ConfigException {
            String value = text(name, null);
            if (value == null) {
                return fallback;
            }
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new ConfigException(source, name, value, "must be true or false");
            };
        }

        int integer(String name, int fallback, int min, int max) throws ConfigException {
            String value = text(name, null);
            if (value == null) {
                return fallback;
            }
            try {
                int parsed = Integer.parseInt(value);
                if (parsed >= min && parsed <= max) {
                    return parsed;
                }
            } catch (NumberFormatException e) {
                // reported below with the accepted range
            }
            throw new ConfigException(source, name, value, "must be a whole number from " + min + " to " + max);
        }

        long size(String name, long fallback) throws ConfigException {
            String value = text(name, null);
            if (value == null) {
                return fallback;
            }
            try {
                return ByteSize.parse(value);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(source, name, value, e.getMessage());
            }
        }

        Duration seconds(String name, Duration fallback, int min, int max) throws ConfigException {
            String value = text(name, null);
            if (value == null) {
                return fallback;
            }
            return Duration.ofSeconds(integer(name, 0, min, max));
        }

        /** ANCM writes requestTimeout as a TimeSpan (hh:mm:ss, optionally d.hh:mm:ss); plain seconds are accepted too. */
        Duration timeSpan(String name, Duration fallback) throws ConfigException {
            String value = text(name, null);
            if (value == null) {
                return fallback;
            }
            Duration parsed = null;
            Matcher m = TIME_SPAN.matcher(value);
            if (m.matches()) {
                int minutes = Integer.parseInt(m.group(3));
                int secs = Integer.parseInt(m.group(4));
                if (minutes < 60 && secs < 60) {
                    parsed = Duration.ofDays(m.group(1) == null ? 0 : Long.parseLong(m.group(1)))
                            .plusHours(Long.parseLong(m.group(2))).plusMinutes(minutes).plusSeconds(secs);
                }
            } else if (value.matches("\\d{1,9}")) {
                parsed = Duration.ofSeconds(Long.parseLong(value));
            }
            if (parsed == null || parsed.isZero() || parsed.compareTo(Duration.ofDays(360)) > 0) {
                throw new ConfigException(source, name, value,
                        "must be a time span hh:mm:ss (or whole seconds) between 1 second and 360 days");
            }
            return parsed;
        }

        List<String> arguments(String name) throws ConfigException {
            String value = text(name, null);
            if (value == null) {
                return List.of();
            }
            try {
                return Arguments.split(value);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(source, name, value, e.getMessage());
            }
        }

        List<String> list(String name, List<String> fallback) {
            String value = text(name, null);
            if (value == null) {
                return fallback;
            }
            List<String> items = new ArrayList<>();
            for (String item : value.split(",")) {
                if (!item.isBlank()) {
                    items.add(item.trim());
                }
            }
            return items.isEmpty() ? fallback : items;
        }

        /** Out-of-process only: an in-process app is reached through no socket at all. */
        BackendTransport transport(HostingModel model, BackendTransport fallback) throws ConfigException {
            String value = text("transport", null);
            if (value == null) {
                return fallback;
            }
            BackendTransport transport = BackendTransport.parse(value);
            if (transport == null) {
                throw new ConfigException(source, "transport", value, "must be tcp or unix");
            }
            if (model == HostingModel.IN_PROCESS) {
                throw new ConfigException(source, "transport", value, "applies only with hostingModel=\"outOfProcess\"");
            }
            return transport;
        }

        String authMethod() throws ConfigException {
            String value = text("authMethod", "NONE").toUpperCase(Locale.ROOT);
            if (!value.equals("NONE") && !value.equals("BASIC")) {
                throw new ConfigException(source, "authMethod", root.getAttribute("authMethod"), "must be NONE or BASIC");
            }
            return value;
        }
    }
}
