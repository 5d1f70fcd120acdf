package dev.portico.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds an app's {@code portico.xml} (ANCM's attribute names). {@link #nodeBackend()} starts from
 * the Node test backend with quick limits suited to tests.
 */
public final class PorticoXml {

    private final Map<String, String> attributes = new LinkedHashMap<>();
    private final Map<String, String> environment = new LinkedHashMap<>();

    private PorticoXml() {
    }

    public static PorticoXml empty() {
        return new PorticoXml();
    }

    /** The Node test backend, stdout captured to logs/stdout, short limits. */
    public static PorticoXml nodeBackend() {
        Path script = E2eSettings.nodeBackend();
        return new PorticoXml()
                .attribute("processPath", "node")
                .attribute("arguments", script.toString())
                .attribute("stdoutLogEnabled", "true")
                .attribute("stdoutLogFile", "logs/stdout")
                .attribute("startupTimeLimit", "20")
                .attribute("shutdownTimeLimit", "5")
                .attribute("rapidFailsPerMinute", "3")
                .attribute("requestTimeout", "00:00:05");
    }

    /**
     * A WAR out-of-process under Portico's WAR runner: a child JVM kept small and quick to start,
     * given {@code startupTimeLimit} (a busy machine takes a while to start a JVM).
     */
    public static PorticoXml warRunner(Duration startupTimeLimit) {
        return new PorticoXml()
                .attribute("hostingModel", "outOfProcess")
                .attribute("jvmOptions", "-Xmx128m -XX:TieredStopAtLevel=1")
                .attribute("startupTimeLimit", Long.toString(startupTimeLimit.toSeconds()));
    }

    public PorticoXml attribute(String name, String value) {
        attributes.put(name, value);
        return this;
    }

    public PorticoXml env(String name, String value) {
        environment.put(name, value);
        return this;
    }

    public String render() {
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<portico");
        attributes.forEach((name, value) ->
                xml.append("\n         ").append(name).append("=\"").append(Xml.escape(value)).append('"'));
        if (environment.isEmpty()) {
            return xml.append("/>\n").toString();
        }
        xml.append(">\n  <environmentVariables>\n");
        environment.forEach((name, value) -> xml.append("    <environmentVariable name=\"")
                .append(Xml.escape(name)).append("\" value=\"").append(Xml.escape(value)).append("\"/>\n"));
        return xml.append("  </environmentVariables>\n</portico>\n").toString();
    }

    /** This configuration as the {@code portico.xml} file of a directory app. */
    public AppFile asFile() {
        return AppFile.of("portico.xml", render());
    }

    /** This configuration as the {@code WEB-INF/portico.xml} file of a WAR. */
    public AppFile asWarFile() {
        return AppFile.of("WEB-INF/portico.xml", render());
    }

    @Override
    public String toString() {
        return render();
    }
}
