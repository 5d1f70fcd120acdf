package dev.portico.arquillian;

import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.jboss.shrinkwrap.api.spec.WebArchive;

import dev.portico.arquillian.app.AppListener;

/**
 * The WAR the Arquillian tests host: every class of {@code dev.portico.arquillian.app} in
 * WEB-INF/classes (they are on the test classpath too, but a webapp loads its own classes first,
 * and the tests check that it did), a web.xml with error pages, a JSP and a static file.
 */
final class TestWar {

    static final String WEB_XML = """
            <?xml version="1.0" encoding="UTF-8"?>
            <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee"
                     xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                     xsi:schemaLocation="https://jakarta.ee/xml/ns/jakartaee https://jakarta.ee/xml/ns/jakartaee/web-app_6_1.xsd"
                     version="6.1">
              <error-page>
                <error-code>404</error-code>
                <location>/error-page</location>
              </error-page>
              <error-page>
                <error-code>418</error-code>
                <location>/error-page</location>
              </error-page>
              <error-page>
                <exception-type>java.lang.Throwable</exception-type>
                <location>/error-page</location>
              </error-page>
            </web-app>
            """;

    static final String JSP = """
            <%@ page contentType="text/plain" trimDirectiveWhitespaces="true" %>
            jsp ctx=<%= request.getContextPath() %> answer=${6 * 7} appClassFromWebapp=<%= dev.portico.arquillian.app.InfoServlet.class.getClassLoader() == application.getClassLoader() %>
            """;

    private TestWar() {
    }

    static WebArchive create(String fileName) {
        return ShrinkWrap.create(WebArchive.class, fileName)
                .addPackage(AppListener.class.getPackage())
                .setWebXML(new StringAsset(WEB_XML))
                .addAsWebResource(new StringAsset(JSP), "hello.jsp")
                .addAsWebResource(new StringAsset("static file"), "static.txt");
    }
}
