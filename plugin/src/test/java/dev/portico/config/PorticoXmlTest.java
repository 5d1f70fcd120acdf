package dev.portico.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class PorticoXmlTest {

    private static final Path APP = Path.of("/srv/apps/shop");
    private static final Path FILE = APP.resolve("portico.xml");

    private final HostingDefaults defaults = new HostingDefaults();

    private AppConfig read(String xml, boolean war) throws ConfigException {
        return new PorticoXml(defaults).read(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)), FILE, APP, war);
    }

    private ConfigException error(String xml) {
        return assertThrows(ConfigException.class, () -> read(xml, false));
    }

    @Test
    void defaultsAreAncms() throws Exception {
        AppConfig config = read("<portico processPath='node'/>", false);
        assertEquals(HostingModel.OUT_OF_PROCESS, config.hostingModel());
        assertEquals(Duration.ofSeconds(120), config.startupTimeLimit());
        assertEquals(Duration.ofSeconds(10), config.shutdownTimeLimit());
        assertEquals(10, config.rapidFailsPerMinute());
        assertEquals(Duration.ofMinutes(2), config.requestTimeout());
        assertFalse(config.stdoutLogEnabled());
        assertEquals(APP.resolve("logs/stdout"), config.stdoutLogFile());
        assertFalse(config.disableStartUpErrorPage());
        assertFalse(config.forwardPrincipal());
        assertEquals(List.of(), config.arguments());
        assertEquals(Map.of(), config.environmentVariables());
    }

    @Test
    void valveDefaultsApplyWhereTheFileIsSilent() throws Exception {
        defaults.setStartupTimeLimit(Duration.ofSeconds(7));
        defaults.setStdoutLogEnabled(true);
        AppConfig config = read("<portico processPath='node' shutdownTimeLimit='3'/>", false);
        assertEquals(Duration.ofSeconds(7), config.startupTimeLimit());
        assertEquals(Duration.ofSeconds(3), config.shutdownTimeLimit());
        assertTrue(config.stdoutLogEnabled());
    }

    @Test
    void everyAttributeIsRead() throws Exception {
        AppConfig config = read("""
                <portico hostingModel='OUTOFPROCESS' processPath='bin/server' arguments='--name "a b" \\"q\\"'
                         stdoutLogEnabled='TRUE' stdoutLogFile='../logs/app' startupTimeLimit='5' shutdownTimeLimit='0'
                         rapidFailsPerMinute='0' requestTimeout='1.02:03:04' disableStartUpErrorPage='true'
                         forwardPrincipal='true' authMethod='basic' authRoles='admin, user' jvmOptions='-Xmx64m'>
                  <environmentVariables>
                    <environmentVariable name='A' value='1'/>
                    <environmentVariable name='EMPTY' value=''/>
                  </environmentVariables>
                </portico>""", false);
        assertEquals("/srv/apps/shop/bin/server", config.processPath());
        assertEquals(List.of("--name", "a b", "\"q\""), config.arguments());
        assertTrue(config.stdoutLogEnabled());
        assertEquals(Path.of("/srv/apps/logs/app"), config.stdoutLogFile());
        assertEquals(Duration.ofSeconds(5), config.startupTimeLimit());
        assertEquals(Duration.ZERO, config.shutdownTimeLimit());
        assertEquals(0, config.rapidFailsPerMinute());
        assertEquals(Duration.ofDays(1).plusHours(2).plusMinutes(3).plusSeconds(4), config.requestTimeout());
        assertTrue(config.disableStartUpErrorPage());
        assertTrue(config.forwardPrincipal());
        assertEquals("BASIC", config.authMethod());
        assertEquals(List.of("admin", "user"), config.authRoles());
        assertEquals(List.of("-Xmx64m"), config.jvmOptions());
        assertEquals(Map.of("A", "1", "EMPTY", ""), config.environmentVariables());
    }

    @Test
    void requestTimeoutAlsoTakesSeconds() throws Exception {
        assertEquals(Duration.ofSeconds(90), read("<portico processPath='x' requestTimeout='90'/>", false).requestTimeout());
    }

    @Test
    void aWarWithoutProcessPathUsesTheWarRunnerOrRunsInProcess() throws Exception {
        AppConfig outOfProcess = read("<portico hostingModel='outOfProcess'/>", true);
        assertTrue(outOfProcess.usesWarRunner());
        assertNull(outOfProcess.processPath());
        assertEquals(HostingModel.IN_PROCESS, read("<portico/>", true).hostingModel());
    }

    @Test
    void errorsNameTheFileTheAttributeAndTheValue() {
        ConfigException e = error("<portico processPath='node' startupTimeLimit='abc'/>");
        assertEquals(FILE, e.file());
        assertEquals("startupTimeLimit", e.attribute());
        assertEquals("abc", e.value());
        assertTrue(e.getMessage().contains(FILE.toString()) && e.getMessage().contains("startupTimeLimit")
                && e.getMessage().contains("'abc'"), e.getMessage());
    }

    @Test
    void invalidValuesAreRejected() {
        assertEquals("startupTimeLimit", error("<portico processPath='n' startupTimeLimit='0'/>").attribute());
        assertEquals("shutdownTimeLimit", error("<portico processPath='n' shutdownTimeLimit='-1'/>").attribute());
        assertEquals("rapidFailsPerMinute", error("<portico processPath='n' rapidFailsPerMinute='101'/>").attribute());
        assertEquals("requestTimeout", error("<portico processPath='n' requestTimeout='00:61:00'/>").attribute());
        assertEquals("requestTimeout", error("<portico processPath='n' requestTimeout='0'/>").attribute());
        assertEquals("stdoutLogEnabled", error("<portico processPath='n' stdoutLogEnabled='yes'/>").attribute());
        assertEquals("hostingModel", error("<portico processPath='n' hostingModel='sideways'/>").attribute());
        assertEquals("arguments", error("<portico processPath='n' arguments='\"open'/>").attribute());
        assertEquals("authMethod", error("<portico processPath='n' authMethod='DIGEST'/>").attribute());
        assertEquals("processPath", error("<portico/>").attribute());
        assertEquals("hostingModel", error("<portico hostingModel='inProcess'/>").attribute());
        assertEquals("procesPath", error("<portico procesPath='node'/>").attribute());
        assertEquals("environmentVariable/@name",
                error("<portico processPath='n'><environmentVariables><environmentVariable value='x'/></environmentVariables></portico>").attribute());
    }

    @Test
    void malformedXmlSaysWhere() {
        ConfigException e = error("<portico processPath='node'>\n<environmentVariables>\n</portico>");
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
        assertTrue(error("<aspNetCore processPath='x'/>").getMessage().contains("<portico>"));
        assertTrue(error("<!DOCTYPE portico [<!ENTITY x 'y'>]><portico processPath='&x;'/>").getMessage().contains(FILE.toString()));
    }
}
