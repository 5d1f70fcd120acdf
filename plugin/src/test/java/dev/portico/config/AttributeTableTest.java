package dev.portico.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The attribute table is the one place an attribute is declared: the valve's MBean descriptor and
 * the reference table of docs/configuration.md must say what it says (name, type, default, scope,
 * model), line for line, and its defaults must be values its own types accept.
 */
class AttributeTableTest {

    /** What the valve's MBean shows besides its attributes: Tomcat's own, and the apps' states. */
    private static final Set<String> NOT_ATTRIBUTES = Set.of("asyncSupported", "className", "stateName", "hostedApps");
    private static final Path REFERENCE = Path.of("..", "docs", "configuration.md");

    @Test
    void everyDefaultIsAValueItsOwnTypeAccepts() {
        for (Attribute attribute : Attribute.values()) {
            Object value = attribute.defaultValue();
            if (value == null) {
                continue;
            }
            String text = attribute.type().format(value);
            if (text.isEmpty()) {
                assertNull(attribute.parse(text), attribute.xmlName() + ": empty means absent");
            } else {
                assertEquals(value, attribute.parse(text), attribute.xmlName() + "=" + text);
            }
        }
    }

    @Test
    void theValveMBeanDescribesEveryValveAttributeAsTheTableDoes() throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        Element mbean;
        try (InputStream in = getClass().getResourceAsStream("/dev/portico/mbeans-descriptors.xml")) {
            mbean = (Element) factory.newDocumentBuilder().parse(in).getElementsByTagName("mbean").item(0);
        }
        assertEquals("dev.portico.jmx.ValveMBean", mbean.getAttribute("className"), "reads attributes without getters");
        Map<String, String> described = new TreeMap<>();
        NodeList attributes = mbean.getElementsByTagName("attribute");
        for (int i = 0; i < attributes.getLength(); i++) {
            Element attribute = (Element) attributes.item(i);
            if (!NOT_ATTRIBUTES.contains(attribute.getAttribute("name"))) {
                described.put(attribute.getAttribute("name"), descriptorLine(attribute.getAttribute("name"),
                        attribute.getAttribute("description"), attribute.getAttribute("type"),
                        attribute.getAttribute("writeable")));
            }
        }
        Map<String, String> expected = new TreeMap<>();
        for (Attribute attribute : Attribute.values()) {
            if (attribute.scope().onValve()) {
                expected.put(attribute.xmlName(), descriptorLine(attribute.xmlName(), attribute.doc(),
                        attribute.type().jmxType(), "false"));
            }
        }
        assertEquals(String.join("\n", expected.values()), String.join("\n", described.values()));
    }

    private static String descriptorLine(String name, String description, String type, String writeable) {
        return "    <attribute name=\"" + name + "\" description=\"" + description + "\" type=\"" + type
                + "\" writeable=\"" + writeable + "\"/>";
    }

    @Test
    void theReferenceTableHasOneRowPerAttributeSayingWhatTheTableSays() throws Exception {
        Map<String, String> documented = new LinkedHashMap<>();
        List<String> duplicates = new ArrayList<>();
        for (String row : referenceRows()) {
            String[] cells = row.split("(?<!\\\\)\\|", -1);
            String name = cells[1].trim();
            String facts = Stream.of(cells).skip(1).limit(5).map(String::trim).collect(Collectors.joining(" | "));
            if (documented.put(name, "| " + facts + " |") != null) {
                duplicates.add(name);
            }
        }
        assertEquals(List.of(), duplicates, "attributes with two rows");
        Map<String, String> expected = new LinkedHashMap<>();
        for (Attribute attribute : Attribute.values()) {
            expected.put("`" + attribute.xmlName() + "`", row(attribute));
        }
        assertEquals(String.join("\n", expected.values()), String.join("\n", documented.values()),
                "rows of the reference table (attribute | scope | models | values | default), in the table's order");
    }

    /** The rows of the table under "## Attributes" in docs/configuration.md. */
    private static List<String> referenceRows() throws Exception {
        List<String> rows = new ArrayList<>();
        boolean inSection = false;
        for (String line : Files.readAllLines(REFERENCE)) {
            if (line.startsWith("## ")) {
                inSection = line.equals("## Attributes");
            } else if (inSection && line.startsWith("| `")) {
                rows.add(line);
            }
        }
        return rows;
    }

    /** The first five cells of the attribute's row, as the table gives them. */
    static String row(Attribute attribute) {
        Object value = attribute.defaultValue();
        String text = value == null ? null : attribute.type().format(value);
        String shown = text == null ? "—" : "`" + (text.isEmpty() ? "\"\"" : text) + "`";
        String models = switch (attribute.model()) {
            case ANY -> "both";
            case OUT_OF_PROCESS -> "out-of-process";
            case IN_PROCESS -> "in-process";
        };
        return "| `" + attribute.xmlName() + "` | " + attribute.scope().name().toLowerCase(java.util.Locale.ROOT)
                + " | " + models + " | " + attribute.type().values() + " | " + shown + " |";
    }
}
