package dev.portico.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

class PlaceholdersTest {

    private static final Map<String, String> VARIABLES = Map.of("PORTICO_PORT", "40123", "HOME", "/home/app",
            "H", "hour", "EMPTY", "");

    private static String expand(String text) {
        return Placeholders.expand(text, VARIABLES::get);
    }

    @Test
    void percentReferencesAreAncms() {
        assertEquals("--bind 127.0.0.1:40123", expand("--bind 127.0.0.1:%PORTICO_PORT%"));
        assertEquals("/home/app/40123", expand("%HOME%/%PORTICO_PORT%"));
        assertEquals("[]", expand("[%EMPTY%]"));
        // an unset name is left as written, so strftime-like patterns need no escaping
        assertEquals("+%Y-%m-%d", expand("+%Y-%m-%d"));
        assertEquals("%NOT_SET%", expand("%NOT_SET%"));
        // after an unset name the text is read afresh: "%Y%" is not a reference, "%H%" is
        assertEquals("%Yhour", expand("%Y%H%"));
        assertEquals("100% sure", expand("100% sure"));
        assertEquals("%", expand("%"));
        assertEquals("%1%", expand("%1%"));
    }

    @Test
    void doublePercentIsOneLiteralPercent() {
        assertEquals("%PORTICO_PORT%", expand("%%PORTICO_PORT%%"));
        assertEquals("100%", expand("100%%"));
        assertEquals("%40123", expand("%%%PORTICO_PORT%"));
    }

    @Test
    void braceReferencesAreStrict() {
        assertEquals("127.0.0.1:40123", expand("127.0.0.1:${PORTICO_PORT}"));
        assertEquals("/home/app/x", expand("${HOME}/x"));
        assertEquals("${PORTICO_PORT}", expand("$${PORTICO_PORT}"));
        assertEquals("$HOME $ $1 costs $5", expand("$HOME $ $1 costs $5"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> expand("${PORTICO_PROT}")).getMessage()
                .contains("${PORTICO_PROT}, which is not set"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> expand("--port ${PORTICO_PORT"))
                .getMessage().contains("without a closing"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> expand("${A-B}")).getMessage()
                .contains("is not a variable name"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> expand("${}")).getMessage()
                .contains("is not a variable name"));
    }

    @Test
    void valuesAreNotExpandedAgain() {
        assertEquals("%HOME%", Placeholders.expand("%X%", Map.of("X", "%HOME%", "HOME", "/h")::get));
        assertEquals("${HOME}", Placeholders.expand("${X}", Map.of("X", "${HOME}")::get));
    }
}
