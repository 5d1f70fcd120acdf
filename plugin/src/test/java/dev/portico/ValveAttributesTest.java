package dev.portico;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.util.List;
import java.util.logging.Level;

import org.apache.tomcat.util.IntrospectionUtils;
import org.apache.tomcat.util.digester.Digester;
import org.junit.jupiter.api.Test;
import org.xml.sax.InputSource;

import dev.portico.config.Attribute;
import dev.portico.config.AttributeSamples;
import dev.portico.testing.CapturedLog;

/**
 * The valve's attributes are the table's: Tomcat reaches each one by name (typed setter or the
 * generic setProperty) and only it, server.xml's values go through the table's checks, and a
 * refused value names the attribute, the value and what is accepted.
 */
class ValveAttributesTest {

    private static Object shownDefault(Attribute attribute) {
        return attribute.type().jmxValue(attribute.defaultValue());
    }

    @Test
    void tomcatSetsAndReadsEveryValveAttributeByNameAndNoOtherWithIt() {
        for (Attribute attribute : Attribute.values()) {
            if (!attribute.scope().onValve()) {
                continue;
            }
            PorticoValve valve = new PorticoValve();
            String text = AttributeSamples.other(attribute, attribute.defaultValue());
            assertTrue(IntrospectionUtils.setProperty(valve, attribute.xmlName(), text), attribute.xmlName());
            for (Attribute other : Attribute.values()) {
                if (other.scope().onValve()) {
                    Object expected = other == attribute ? attribute.type().jmxValue(attribute.parse(text)) : shownDefault(other);
                    assertEquals(expected, IntrospectionUtils.getProperty(valve, other.xmlName()),
                            other.xmlName() + " after " + attribute.xmlName() + "=" + text);
                }
            }
        }
        assertEquals(Boolean.FALSE, IntrospectionUtils.setProperty(new PorticoValve(), "processesPerApplicaton", "2"));
        assertNull(new PorticoValve().getProperty("arguments"), "an app-only attribute is not the valve's");
    }

    @Test
    void aRefusedValueNamesTheAttributeTheValueAndWhatIsAcceptedAndChangesNothing() {
        PorticoValve valve = new PorticoValve();
        assertEquals("Portico valve attribute [processesPerApplication] has invalid value [65]: it must be a whole"
                + " number from 1 to 64", assertThrows(IllegalArgumentException.class,
                        () -> valve.setProperty("processesPerApplication", "65")).getMessage());
        assertEquals("Portico valve attribute [startupTimeLimit] has invalid value [0]: it must be a whole number"
                + " from 1 to 3600", assertThrows(IllegalArgumentException.class,
                        () -> valve.setStartupTimeLimit(0)).getMessage());
        assertEquals("Portico valve attribute [transport] has invalid value [udp]: it must be tcp or unix",
                assertThrows(IllegalArgumentException.class, () -> valve.setTransport("udp")).getMessage());
        assertEquals("Portico valve attribute [readinessPath] has invalid value [healthz]: it must be a path below"
                + " the app starting with '/', such as /healthz (no spaces, no '..')",
                assertThrows(IllegalArgumentException.class, () -> valve.setProperty("readinessPath", "healthz"))
                        .getMessage());
        assertEquals(1, valve.getProperty("processesPerApplication"));
        assertEquals(120, valve.getStartupTimeLimit());
        assertEquals("tcp", valve.getTransport());
    }

    @Test
    void serverXmlReachesEveryAttributeThroughTomcatsDigesterAndABadValueIsLoggedWithWhatIsAccepted()
            throws Exception {
        Digester digester = new Digester();
        digester.addObjectCreate("Valve", null, "className");
        digester.addSetProperties("Valve");
        String xml = "<Valve className='dev.portico.PorticoValve' processesPerApplication='3' stickySessions='true'"
                + " requestTimeout='00:05:00' startupTimeLimit='abc' shutdownTimeLimit='30' idleTimeout='600'/>";
        PorticoValve valve;
        try (CapturedLog log = new CapturedLog()) {
            valve = (PorticoValve) digester.parse(new InputSource(new StringReader(xml)));
            List<String> refusals = log.thrown(Level.WARNING).stream().map(ValveAttributesTest::rootCause).toList();
            assertEquals(List.of("Portico valve attribute [startupTimeLimit] has invalid value [abc]: it must be a"
                    + " whole number from 1 to 3600"), refusals);
        }
        assertEquals(3, valve.getProperty("processesPerApplication"));
        assertEquals(true, valve.getProperty("stickySessions"));
        assertEquals(300, valve.getRequestTimeout());
        assertEquals(120, valve.getStartupTimeLimit(), "a refused value leaves the default");
        assertEquals(30, valve.getShutdownTimeLimit());
        assertEquals(600, valve.getProperty("idleTimeout"));
    }

    private static String rootCause(Throwable thrown) {
        Throwable cause = thrown;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause.getMessage();
    }
}
