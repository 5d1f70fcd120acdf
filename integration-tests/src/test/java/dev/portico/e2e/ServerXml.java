package dev.portico.e2e;

import java.nio.file.Path;
import java.util.Map;

/**
 * The {@code conf/server.xml} of a test Tomcat: no shutdown port (stopped by signal), one HTTP
 * connector on 127.0.0.1 (optionally with HTTP/2 and a TLS connector beside it), one Host with the Portico valve and, optionally, a user realm.
 */
final class ServerXml {

    private ServerXml() {
    }

    /** What a test adds to the template: connectors, children of the Engine and of the Host (before the valve). */
    record Extras(String connectors, String engine, String host) {
        static final Extras NONE = new Extras("", "", "");
    }

    /** A TLS connector beside the HTTP one (PKCS12 keystore). */
    record Tls(int port, Path keystore, String password) {
    }

    /**
     * @param http2 Tomcat's {@code Http2Protocol} on every connector: h2c (upgrade and prior
     *        knowledge) on the HTTP one, h2 by ALPN on the TLS one
     * @param tls the TLS connector, or null for none
     */
    static String render(int httpPort, boolean withPortico, Map<String, String> valveAttributes,
            boolean withUserRealm, boolean http2, Tls tls, Extras extras) {
        StringBuilder xml = new StringBuilder();
        xml.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.append("<Server port=\"-1\" shutdown=\"SHUTDOWN\">\n");
        if (withUserRealm) {
            xml.append("""
                      <GlobalNamingResources>
                        <Resource name="UserDatabase" auth="Container"
                                  type="org.apache.catalina.UserDatabase"
                                  factory="org.apache.catalina.users.MemoryUserDatabaseFactory"
                                  pathname="conf/tomcat-users.xml" readonly="true"/>
                      </GlobalNamingResources>
                    """);
        }
        xml.append("  <Service name=\"Catalina\">\n");
        String upgrade = http2 ? "      <UpgradeProtocol className=\"org.apache.coyote.http2.Http2Protocol\"/>\n" : "";
        xml.append("    <Connector address=\"127.0.0.1\" port=\"").append(httpPort)
                .append("\" protocol=\"HTTP/1.1\" connectionTimeout=\"20000\">\n").append(upgrade)
                .append("    </Connector>\n");
        if (tls != null) {
            xml.append("    <Connector address=\"127.0.0.1\" port=\"").append(tls.port())
                    .append("\" protocol=\"HTTP/1.1\" SSLEnabled=\"true\" connectionTimeout=\"20000\">\n")
                    .append(upgrade)
                    .append("      <SSLHostConfig><Certificate certificateKeystoreFile=\"")
                    .append(Xml.escape(tls.keystore().toString())).append("\" certificateKeystorePassword=\"")
                    .append(Xml.escape(tls.password())).append("\" certificateKeystoreType=\"PKCS12\"/></SSLHostConfig>\n")
                    .append("    </Connector>\n");
        }
        xml.append(extras.connectors());
        xml.append("    <Engine name=\"Catalina\" defaultHost=\"localhost\">\n");
        xml.append(extras.engine());
        xml.append("      <Host name=\"localhost\" appBase=\"webapps\" unpackWARs=\"true\""
                + " autoDeploy=\"false\" deployOnStartup=\"true\">\n");
        if (withUserRealm) {
            xml.append("        <Realm className=\"org.apache.catalina.realm.UserDatabaseRealm\""
                    + " resourceName=\"UserDatabase\"/>\n");
        }
        xml.append(extras.host());
        if (withPortico) {
            xml.append("        <Valve className=\"").append(E2eSettings.VALVE_CLASS).append('"');
            valveAttributes.forEach((name, value) ->
                    xml.append(' ').append(name).append("=\"").append(Xml.escape(value)).append('"'));
            xml.append("/>\n");
        }
        xml.append("      </Host>\n");
        xml.append("    </Engine>\n");
        xml.append("  </Service>\n");
        xml.append("</Server>\n");
        return xml.toString();
    }

    /** The Manager webapp of the distribution, deployed by descriptor, with the RemoteAddrValve it ships with. */
    static String managerContext(java.nio.file.Path catalinaHome) {
        return "<Context docBase=\"" + Xml.escape(catalinaHome.resolve("webapps/manager").toString())
                + "\" antiResourceLocking=\"false\" privileged=\"true\">\n"
                + "  <Valve className=\"org.apache.catalina.valves.RemoteAddrValve\" allow=\"127\\.\\d+\\.\\d+\\.\\d+|::1|0:0:0:0:0:0:0:1\"/>\n"
                + "</Context>\n";
    }

    /**
     * tomcat-users.xml with the principal-test user alice/secret in role "user", bob/secret in "user"
     * and "admin", and ops/ops-secret in "manager-jmx".
     */
    static String testUsers() {
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <tomcat-users xmlns="http://tomcat.apache.org/xml" version="1.0">
                  <role rolename="user"/>
                  <role rolename="admin"/>
                  <role rolename="manager-jmx"/>
                  <user username="alice" password="secret" roles="user"/>
                  <user username="bob" password="secret" roles="user,admin"/>
                  <user username="ops" password="ops-secret" roles="manager-jmx"/>
                </tomcat-users>
                """;
    }
}
