package dev.portico.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.w3c.dom.Attr;
import org.w3c.dom.Element;
import org.w3c.dom.NamedNodeMap;

/**
 * The attributes of a {@code portico.xml} root element, read through the {@link Attribute} table:
 * the names it knows, each value parsed and checked by the attribute's type, the valve's value
 * (or the table's default) where the file is silent, and the rules that join attributes. Every
 * failure names the file, the attribute and its value.
 */
final class AppAttributes {

    private static final String KNOWN = Stream.of(Attribute.values()).filter(a -> a.scope().inPorticoXml())
            .map(Attribute::xmlName).sorted().collect(Collectors.joining(", "));

    private final Element root;
    private final Path source;

    AppAttributes(Element root, Path source) throws ConfigException {
        this.root = root;
        this.source = source;
        NamedNodeMap all = root.getAttributes();
        for (int i = 0; i < all.getLength(); i++) {
            Attr attr = (Attr) all.item(i);
            Attribute attribute = Attribute.named(attr.getName());
            if (attribute == null || !attribute.scope().inPorticoXml()) {
                throw new ConfigException(source, attr.getName(), attr.getValue(), "unknown attribute (known: " + KNOWN + ")");
            }
        }
    }

    /** For an app without portico.xml, or before the file is read: the valve's value, else the table's default. */
    static Map<Attribute, Object> defaults(ValveSettings valve) {
        Map<Attribute, Object> values = new EnumMap<>(Attribute.class);
        for (Attribute attribute : Attribute.values()) {
            if (attribute.scope().inPorticoXml()) {
                values.put(attribute, attribute.scope().onValve() ? valve.get(attribute) : attribute.defaultValue());
            }
        }
        return values;
    }

    /** A value for every attribute portico.xml has: the file's over the valve's over the table's. */
    Map<Attribute, Object> read(ValveSettings valve, Path appDirectory, boolean war) throws ConfigException {
        Map<Attribute, Object> values = defaults(valve);
        for (Attribute attribute : values.keySet()) {
            Object value = parse(attribute);
            if (value != null) {
                values.put(attribute, value);
            }
        }
        HostingModel model = hostingModel((HostingModel) values.get(Attribute.HOSTING_MODEL), war);
        values.put(Attribute.HOSTING_MODEL, model);
        values.put(Attribute.PROCESS_PATH, processPath(model, appDirectory, war));
        requireModel(model);
        Duration max = (Duration) values.get(Attribute.BACKOFF_MAX_DELAY_MS);
        String conflict = PoolConfig.backoffConflict((Duration) values.get(Attribute.BACKOFF_INITIAL_DELAY_MS), max);
        if (conflict != null) {
            throw new ConfigException(source, Attribute.BACKOFF_MAX_DELAY_MS.xmlName(), String.valueOf(max.toMillis()),
                    conflict);
        }
        return values;
    }

    /** The attribute as written, trimmed; null when it is absent or blank. */
    private String text(Attribute attribute) {
        String value = root.getAttribute(attribute.xmlName()).trim();
        return value.isEmpty() ? null : value;
    }

    private Object parse(Attribute attribute) throws ConfigException {
        try {
            return attribute.parse(text(attribute));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(source, attribute.xmlName(), text(attribute), e.getMessage());
        }
    }

    private HostingModel hostingModel(HostingModel written, boolean war) throws ConfigException {
        if (written == null) {
            return war ? HostingModel.IN_PROCESS : HostingModel.OUT_OF_PROCESS;
        }
        if (written == HostingModel.IN_PROCESS && !war) {
            throw new ConfigException(source, Attribute.HOSTING_MODEL.xmlName(), text(Attribute.HOSTING_MODEL),
                    "inProcess needs a web application (a WAR or a directory with WEB-INF)");
        }
        return written;
    }

    /** A bare program name ("node") is looked up on PATH by the OS; anything with a slash is a path. */
    private String processPath(HostingModel model, Path appDirectory, boolean war) throws ConfigException {
        String processPath = text(Attribute.PROCESS_PATH);
        if (processPath != null && (processPath.contains("/") || processPath.contains("\\"))) {
            processPath = appDirectory.resolve(processPath).normalize().toString();
        }
        if (model == HostingModel.OUT_OF_PROCESS && processPath == null && !war) {
            throw new ConfigException(source, Attribute.PROCESS_PATH.xmlName(), null,
                    "is required for an out-of-process app that is not a WAR (there is no WEB-INF to run)");
        }
        if (model == HostingModel.IN_PROCESS && processPath != null) {
            throw new ConfigException(source, Attribute.PROCESS_PATH.xmlName(), processPath,
                    "is only used with hostingModel=\"outOfProcess\"");
        }
        return processPath;
    }

    /** The attributes of one hosting model only (the pool's: an in-process app has no processes) are refused in the other. */
    private void requireModel(HostingModel model) throws ConfigException {
        for (Attribute attribute : Attribute.values()) {
            if (attribute.scope().inPorticoXml() && !attribute.model().allows(model) && text(attribute) != null) {
                throw new ConfigException(source, attribute.xmlName(), text(attribute),
                        "applies only with hostingModel=\"" + attribute.model().only().xmlName() + "\"");
            }
        }
    }
}
