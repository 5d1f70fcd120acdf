package dev.portico.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
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

    /** Far more than any real portico.xml; reading stops here, so a huge or endless file costs nothing. */
    static final int MAX_BYTES = 1024 * 1024;
    private static final String DISALLOW_DOCTYPE = "http://apache.org/xml/features/disallow-doctype-decl";

    private final ValveSettings valve;

    /** @param valve the valve's attributes, whose values are the defaults of every app's */
    public PorticoXml(ValveSettings valve) {
        this.valve = valve;
    }

    /** The configuration of an app that has no portico.xml: a WAR hosted in-process with defaults. */
    public AppConfig defaultsFor(Path appDirectory, boolean war) {
        Map<Attribute, Object> values = AppAttributes.defaults(valve);
        values.put(Attribute.HOSTING_MODEL, HostingModel.IN_PROCESS);
        return new AppConfig(appDirectory, null, war, values, Map.of());
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
        Map<Attribute, Object> values = new AppAttributes(root, source).read(valve, appDirectory, war);
        AppConfig config = new AppConfig(appDirectory, source, war, values, environmentVariables(root, source));
        checkReferences(source, config);
        return config;
    }

    /**
     * Every {@code ${NAME}} must name a variable that will be set where it is expanded (see
     * {@link Placeholders}): environmentVariables' values see Tomcat's environment and, out of
     * process, Portico's {@code PORTICO_*} variables; arguments and jvmOptions see the process's
     * whole environment, the app's own variables included. Checked here so that a misspelt name
     * is a 500.19 naming the attribute, not a start failure.
     */
    private static void checkReferences(Path source, AppConfig config) throws ConfigException {
        Set<String> inherited = new HashSet<>(System.getenv().keySet());
        if (config.hostingModel() == HostingModel.OUT_OF_PROCESS) {
            inherited.addAll(BackendContract.environmentNames(config.transport() == BackendTransport.UNIX));
        }
        for (Map.Entry<String, String> variable : config.environmentVariables().entrySet()) {
            check(source, "environmentVariable[@name='" + variable.getKey() + "']/@value", variable.getValue(), inherited);
        }
        Set<String> processEnvironment = new HashSet<>(inherited);
        processEnvironment.addAll(config.environmentVariables().keySet());
        for (String argument : config.arguments()) {
            check(source, "arguments", argument, processEnvironment);
        }
        for (String option : config.jvmOptions()) {
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
}
