package dev.portico.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PorticoXmlTest {

    private static final Path APP = Path.of("/srv/apps/shop");
    private static final Path FILE = APP.resolve("portico.xml");

    private final ValveSettings defaults = new ValveSettings((attribute, value, reason) -> attribute + "=" + value + ": " + reason);

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
        assertTrue(config.preserveHostHeader());
    }

    @Test
    void variableReferencesAreCheckedWhereTheyWillBeExpanded() throws Exception {
        AppConfig config = read("""
                <portico processPath='gunicorn' arguments='--bind "127.0.0.1:${PORTICO_PORT}" --name %APP_NAME% ${PATH}'
                         jvmOptions='-Dport=${PORTICO_PORT}'>
                  <environmentVariables>
                    <environmentVariable name='APP_NAME' value='shop-${PORTICO_PATH_BASE}'/>
                  </environmentVariables>
                </portico>""", false);
        // kept as written: expanded when the process starts (PORTICO_PORT changes with every start)
        assertEquals(List.of("--bind", "127.0.0.1:${PORTICO_PORT}", "--name", "%APP_NAME%", "${PATH}"), config.arguments());
        assertEquals("shop-${PORTICO_PATH_BASE}", config.environmentVariables().get("APP_NAME"));

        ConfigException typo = error("<portico processPath='x' arguments='--port ${PORTICO_PROT}'/>");
        assertTrue(typo.getMessage().contains("arguments") && typo.getMessage().contains("${PORTICO_PROT}, which is not set"),
                typo.getMessage());
        // a variable's value sees Tomcat's environment and Portico's, not the app's other variables
        ConfigException sibling = error("""
                <portico processPath='x'><environmentVariables>
                  <environmentVariable name='A' value='1'/><environmentVariable name='B' value='${A}'/>
                </environmentVariables></portico>""");
        assertTrue(sibling.getMessage().contains("environmentVariable[@name='B']/@value"), sibling.getMessage());
        assertTrue(error("<portico processPath='x' jvmOptions='-Dx=${NOPE_NOT_SET}'/>").getMessage().contains("jvmOptions"));
        assertTrue(error("<portico processPath='x' arguments='${unclosed'/>").getMessage().contains("without a closing"));
        // in-process there is no PORTICO_PORT to expand
        assertThrows(ConfigException.class, () -> read("""
                <portico><environmentVariables><environmentVariable name='P' value='${PORTICO_PORT}'/></environmentVariables></portico>""",
                true));
        // %NAME% follows ANCM: unset names stay as written, never an error
        assertEquals(List.of("%NOT_SET%"), read("<portico processPath='x' arguments='%NOT_SET%'/>", false).arguments());
    }

    @Test
    void preserveHostHeaderCanBeTurnedOffPerAppOrForTheHost() throws Exception {
        assertFalse(read("<portico processPath='node' preserveHostHeader='false'/>", false).preserveHostHeader());
        defaults.set("preserveHostHeader", "false");
        assertFalse(read("<portico processPath='node'/>", false).preserveHostHeader());
        assertTrue(read("<portico processPath='node' preserveHostHeader='true'/>", false).preserveHostHeader());
        assertTrue(error("<portico processPath='node' preserveHostHeader='yes'/>").getMessage().contains("preserveHostHeader"));
    }

    @Test
    void valveDefaultsApplyWhereTheFileIsSilent() throws Exception {
        defaults.set("startupTimeLimit", "7");
        defaults.set("stdoutLogEnabled", "true");
        AppConfig config = read("<portico processPath='node' shutdownTimeLimit='3'/>", false);
        assertEquals(Duration.ofSeconds(7), config.startupTimeLimit());
        assertEquals(Duration.ofSeconds(3), config.shutdownTimeLimit());
        assertTrue(config.stdoutLogEnabled());
    }

    /** Every app attribute the valve has too: its value on the valve applies where the file is silent, the file's wins. */
    @Test
    void everyValveDefaultAppliesWhereTheFileIsSilentAndTheFilesOwnValueWins() throws Exception {
        for (Attribute attribute : Attribute.values()) {
            if (attribute.scope() != Attribute.Scope.BOTH) {
                continue;
            }
            String name = attribute.xmlName();
            ValveSettings valve = new ValveSettings((n, value, reason) -> reason);
            String onValve = AttributeSamples.other(attribute, attribute.defaultValue());
            valve.set(name, onValve);
            assertEquals(attribute.parse(onValve), readWith(valve, "<portico processPath='node'/>").value(attribute), name);
            String own = attribute.defaultValue() == null ? AttributeSamples.other(attribute, attribute.parse(onValve))
                    : attribute.type().format(attribute.defaultValue());
            assertEquals(attribute.parse(own), readWith(valve, "<portico processPath='node' " + name + "='" + own + "'/>")
                    .value(attribute), name);
            assertEquals(attribute.parse(onValve), new PorticoXml(valve).defaultsFor(APP, true).value(attribute), name);
        }
    }

    private static AppConfig readWith(ValveSettings valve, String xml) throws ConfigException {
        return new PorticoXml(valve).read(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)), FILE, APP, false);
    }

    @Test
    void outOfProcessAttributesAreRefusedInProcessButTheValvesDefaultsLeaveInProcessAppsAlone() throws Exception {
        for (Attribute attribute : Attribute.values()) {
            if (attribute.scope().inPorticoXml() && attribute.model() == Attribute.Model.OUT_OF_PROCESS
                    && attribute != Attribute.PROCESS_PATH) {
                String value = AttributeSamples.other(attribute, attribute.defaultValue());
                ConfigException e = assertThrows(ConfigException.class,
                        () -> read("<portico hostingModel='inProcess' " + attribute.xmlName() + "='" + value + "'/>", true));
                assertEquals(FILE + ": attribute '" + attribute.xmlName() + "' has invalid value '" + value
                        + "': applies only with hostingModel=\"outOfProcess\"", e.getMessage());
                defaults.set(attribute.xmlName(), value);
            }
        }
        assertEquals(HostingModel.IN_PROCESS, read("<portico/>", true).hostingModel());
        assertEquals(HostingModel.IN_PROCESS, read("<portico hostingModel='inProcess'/>", true).hostingModel());
        ConfigException program = assertThrows(ConfigException.class,
                () -> read("<portico hostingModel='inProcess' processPath='node'/>", true));
        assertTrue(program.getMessage().endsWith("'processPath' has invalid value 'node': is only used with"
                + " hostingModel=\"outOfProcess\""), program.getMessage());
    }

    @Test
    void theBackoffsLongestWaitIsNoShorterThanItsFirstWhereverEachComesFrom() throws Exception {
        ConfigException e = error("<portico processPath='n' backoffInitialDelayMs='500' backoffMaxDelayMs='400'/>");
        assertEquals(FILE + ": attribute 'backoffMaxDelayMs' has invalid value '400': must not be less than"
                + " backoffInitialDelayMs (500)", e.getMessage());
        defaults.set("backoffMaxDelayMs", "400");
        assertEquals("backoffMaxDelayMs", error("<portico processPath='n' backoffInitialDelayMs='500'/>").attribute());
        assertEquals(Duration.ofMillis(400), read("<portico processPath='n' backoffInitialDelayMs='400'/>", false)
                .pool().backoffMaxDelay());
    }

    @Test
    void everyAttributeIsRead() throws Exception {
        AppConfig config = read("""
                <portico hostingModel='OUTOFPROCESS' processPath='bin/server' arguments='--name "a b" \\"q\\"'
                         stdoutLogEnabled='TRUE' stdoutLogFile='../logs/app' startupTimeLimit='5' shutdownTimeLimit='0'
                         rapidFailsPerMinute='0' requestTimeout='1.02:03:04' disableStartUpErrorPage='true'
                         forwardPrincipal='true' authMethod='basic' authRoles='admin, user' jvmOptions='-Xmx64m'
                         stdoutLogMaxSize='10M' stdoutLogMaxFiles='3'>
                  <environmentVariables>
                    <environmentVariable name='A' value='1'/>
                    <environmentVariable name='EMPTY' value=''/>
                  </environmentVariables>
                </portico>""", false);
        assertEquals("/srv/apps/shop/bin/server", config.processPath());
        assertEquals(List.of("--name", "a b", "\"q\""), config.arguments());
        assertTrue(config.stdoutLogEnabled());
        assertEquals(Path.of("/srv/apps/logs/app"), config.stdoutLogFile());
        assertEquals(10L << 20, config.stdoutLogMaxSize());
        assertEquals(3, config.stdoutLogMaxFiles());
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
    void sizesTakeBytesOrAUnit() throws Exception {
        assertEquals(0, read("<portico processPath='x'/>", false).stdoutLogMaxSize(), "no rotation by default");
        assertEquals(10, read("<portico processPath='x'/>", false).stdoutLogMaxFiles());
        assertEquals(0, read("<portico processPath='x' stdoutLogMaxSize='0'/>", false).stdoutLogMaxSize());
        assertEquals(65536, read("<portico processPath='x' stdoutLogMaxSize='65536'/>", false).stdoutLogMaxSize());
        assertEquals(512 << 10, read("<portico processPath='x' stdoutLogMaxSize='512k'/>", false).stdoutLogMaxSize());
        assertEquals(1L << 30, read("<portico processPath='x' stdoutLogMaxSize='1 GB'/>", false).stdoutLogMaxSize());
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
        assertEquals("stdoutLogMaxSize", error("<portico processPath='n' stdoutLogMaxSize='100'/>").attribute());
        assertEquals("stdoutLogMaxSize", error("<portico processPath='n' stdoutLogMaxSize='10X'/>").attribute());
        assertEquals("stdoutLogMaxSize", error("<portico processPath='n' stdoutLogMaxSize='2048G'/>").attribute());
        assertEquals("stdoutLogMaxFiles", error("<portico processPath='n' stdoutLogMaxFiles='0'/>").attribute());
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

    // ---------------------------------------------------------------- hostile files

    @TempDir
    Path dir;

    /** Reads a portico.xml from disk, as the catalog does; a hang (a FIFO, an entity bomb) fails the test. */
    private ConfigException fileError(Path file) {
        return assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(ConfigException.class, () -> new PorticoXml(defaults).read(file, dir, false)));
    }

    private Path write(String name, byte[] content) throws Exception {
        return Files.write(dir.resolve(name), content);
    }

    @Test
    void aDirectoryInPlaceOfTheFileIsAConfigurationError() throws Exception {
        // what a Docker bind mount of a file that does not exist on the host creates
        Path file = Files.createDirectory(dir.resolve("portico.xml"));
        ConfigException e = fileError(file);
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("directory"), e.getMessage());
    }

    @Test
    void aFifoInPlaceOfTheFileIsRefusedWithoutOpeningIt() throws Exception {
        Path fifo = dir.resolve("portico.xml");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        ConfigException e = fileError(fifo);
        assertTrue(e.getMessage().contains(fifo.toString()) && e.getMessage().contains("not a regular file"), e.getMessage());
    }

    @Test
    void anEmptyFileSaysSo() throws Exception {
        ConfigException e = fileError(write("empty.xml", new byte[0]));
        assertTrue(e.getMessage().contains("empty.xml") && e.getMessage().contains("is empty"), e.getMessage());
    }

    @Test
    void aFileThatIsNotUtf8IsAConfigurationError() throws Exception {
        Path file = write("latin1.xml", "<portico processPath='n\u00f6de'/>".getBytes(StandardCharsets.ISO_8859_1));
        ConfigException e = fileError(file);
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("UTF-8"), e.getMessage());
    }

    @Test
    void aHugeFileIsRefusedAtTheCapWhetherOnDiskOrInAWar() throws Exception {
        byte[] huge = ("<portico processPath='node' arguments='" + "x".repeat(2 * 1024 * 1024) + "'/>")
                .getBytes(StandardCharsets.UTF_8);
        ConfigException e = fileError(write("huge.xml", huge));
        assertTrue(e.getMessage().contains("huge.xml") && e.getMessage().contains("larger than 1 MiB"), e.getMessage());
        assertTrue(e.getMessage().length() < 500, "nothing of the content is echoed: " + e.getMessage().length());
        ConfigException inWar = assertThrows(ConfigException.class,
                () -> new PorticoXml(defaults).read(new ByteArrayInputStream(huge), FILE, APP, true));
        assertTrue(inWar.getMessage().contains("larger than 1 MiB"), inWar.getMessage());
    }

    @Test
    void externalEntitiesAreNeverRead() throws Exception {
        Path secret = write("secret.txt", "top-secret-content".getBytes(StandardCharsets.UTF_8));
        Path file = write("xxe.xml", ("<?xml version='1.0'?>\n<!DOCTYPE portico [<!ENTITY x SYSTEM '" + secret.toUri()
                + "'>]>\n<portico processPath='node' arguments='&x;' bogus='&x;'/>").getBytes(StandardCharsets.UTF_8));
        ConfigException e = fileError(file);
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("DOCTYPE"), e.getMessage());
        assertFalse(e.getMessage().contains("top-secret-content"), e.getMessage());
    }

    @Test
    void anEntityBombIsRefusedAtOnce() throws Exception {
        StringBuilder bomb = new StringBuilder("<?xml version='1.0'?>\n<!DOCTYPE portico [\n<!ENTITY l0 'lol'>\n");
        for (int i = 1; i < 10; i++) {
            bomb.append("<!ENTITY l").append(i).append(" '").append(("&l" + (i - 1) + ";").repeat(10)).append("'>\n");
        }
        bomb.append("]>\n<portico processPath='node' arguments='&l9;'/>\n");
        ConfigException e = fileError(write("bomb.xml", bomb.toString().getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("bomb.xml") && e.getMessage().contains("DOCTYPE"), e.getMessage());
    }

    @Test
    void echoedValuesAreCutToAnExcerptWithTheirLength() {
        String value = "v".repeat(600_000);
        String name = "n".repeat(900); // names stay under the parser's own limit of 1000 characters
        Map<String, String> echoes = Map.of(
                "<portico processPath='x' startupTimeLimit='" + value + "'/>", value,
                "<portico processPath='x' bogus='" + value + "'/>", value,
                "<portico processPath='x' " + name + "='1'/>", name,
                "<" + name + "/>", name,
                "<portico processPath='x'><" + name + "/></portico>", name);
        echoes.forEach((xml, echoed) -> {
            String message = error(xml).getMessage();
            assertTrue(message.length() < 1000, "message of " + message.length() + " chars");
            assertTrue(message.contains(echoed.substring(0, 200) + "… (" + echoed.length() + " chars)"), message);
            assertFalse(message.contains(echoed.substring(0, 201)), message);
        });
        // a name the parser itself refuses, and quotes in its message
        String parserMessage = error("<portico processPath='x' " + name + "/>").getMessage();
        assertTrue(parserMessage.length() < 1000 && !parserMessage.contains(name.substring(0, 201)), parserMessage);
    }

    @Test
    void controlCharactersInAnEchoedValueCannotForgeALogLine() {
        ConfigException e = error("<portico processPath='n' startupTimeLimit='1&#10;SEVERE: forged'/>");
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("1\\u000aSEVERE: forged"), e.getMessage());
    }
}
