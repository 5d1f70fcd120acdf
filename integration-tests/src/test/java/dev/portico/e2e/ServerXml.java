package dev.portico.e2e;

import java.util.Map;

/**
 * The {@code conf/server.xml} of a test Tomcat: no shutdown port (stopped by signal), one HTTP
 * connector on 127.0.0.1, one Host with the Portico valve and, optionally, a user realm.
 */
final class ServerXml {

    private ServerXml() {
    }

    static String render(int httpPort, boolean withPortico, Map<String, String> valveAttributes,
            boolean withUserRealm) {
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
        xml.append("    <Connector address=\"127.0.0.1\" port=\"").append(httpPort)
                .append("\" protocol=\"HTTP/1.1\" connectionTimeout=\"20000\"/>\n");
        xml.append("    <Engine name=\"Catalina\" defaultHost=\"localhost\">\n");
        xml.append("      <Host name=\"localhost\" appBase=\"webapps\" unpackWARs=\"true\""
                + " autoDeploy=\"false\" deployOnStartup=\"true\">\n");
        if (withUserRealm) {
            xml.append("        <Realm className=\"org.apache.catalina.realm.UserDatabaseRealm\""
                    + " resourceName=\"UserDatabase\"/>\n");
        }
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

    /** tomcat-users.xml with the principal-test user alice/secret in role "user". */
    static String testUsers() {
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <tomcat-users xmlns="http://tomcat.apache.org/xml" version="1.0">
                  <role rolename="user"/>
                  <user username="alice" password="secret" roles="user"/>
                </tomcat-users>
                """;
    }
}
