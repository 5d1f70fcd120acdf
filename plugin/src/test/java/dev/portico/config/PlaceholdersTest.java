package dev.portico.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PlaceholdersTest {

    private static final Map<String, String> VARIABLES = Map.of("PORTICO_PORT", "40123", "HOME", "/home/app",
            "H", "hour", "EMPTY", "");

    private static String expand(String text) {
        return Placeholders.expand(text, VARIABLES::get);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            --bind 127.0.0.1:%PORTICO_PORT% | --bind 127.0.0.1:40123
            %HOME%/%PORTICO_PORT%           | /home/app/40123
            [%EMPTY%]                       | []
            # an unset name is left as written, so strftime-like patterns need no escaping
            +%Y-%m-%d                       | +%Y-%m-%d
            %NOT_SET%                       | %NOT_SET%
            # after an unset name the text is read afresh: "%Y%" is not a reference, "%H%" is
            %Y%H%                           | %Yhour
            100% sure                       | 100% sure
            %                               | %
            %1%                             | %1%
            """)
    void percentReferencesAreAncms(String text, String expanded) {
        assertEquals(expanded, expand(text));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            %%PORTICO_PORT%%  | %PORTICO_PORT%
            100%%             | 100%
            %%%PORTICO_PORT%  | %40123
            """)
    void doublePercentIsOneLiteralPercent(String text, String expanded) {
        assertEquals(expanded, expand(text));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            127.0.0.1:${PORTICO_PORT}  | 127.0.0.1:40123
            ${HOME}/x                  | /home/app/x
            $${PORTICO_PORT}           | ${PORTICO_PORT}
            $HOME $ $1 costs $5        | $HOME $ $1 costs $5
            """)
    void braceReferencesAreStrict(String text, String expanded) {
        assertEquals(expanded, expand(text));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            ${PORTICO_PROT}          | ${PORTICO_PROT}, which is not set
            --port ${PORTICO_PORT    | without a closing
            ${A-B}                   | is not a variable name
            ${}                      | is not a variable name
            """)
    void aBraceReferenceThatCannotBeExpandedIsRefused(String text, String reason) {
        String message = assertThrows(IllegalArgumentException.class, () -> expand(text)).getMessage();
        assertTrue(message.contains(reason), message);
    }

    @Test
    void valuesAreNotExpandedAgain() {
        assertEquals("%HOME%", Placeholders.expand("%X%", Map.of("X", "%HOME%", "HOME", "/h")::get));
        assertEquals("${HOME}", Placeholders.expand("${X}", Map.of("X", "${HOME}")::get));
    }
}
