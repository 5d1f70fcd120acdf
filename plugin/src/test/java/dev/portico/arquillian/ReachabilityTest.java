package dev.portico.arquillian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.portico.testsupport.RawConnection;
import dev.portico.testsupport.RawHttp;
import dev.portico.testsupport.RawResponse;

/**
 * A hosted WAR answers only under its context path on the front Host that carries the valve:
 * not under any other path, not through another Host of the same Engine (arquillian.xml adds
 * {@value #OTHER_HOST}, without the valve), and the valve's internal Host is no route of its own:
 * it carries the front Host's name but belongs to a Service that no connector feeds, and any other
 * name ("portico", say) just lands on the front's default Host, i.e. the valve again.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class ReachabilityTest {

    static final String OTHER_HOST = "other.portico.test";

    @ArquillianResource
    private URL base;

    @Deployment(testable = false)
    static WebArchive deployment() {
        return TestWar.create("reach.war");
    }

    /**
     * One request over a plain socket, so that the Host header is what the test says (java.net.http
     * does not let a caller set it): the status line and the body.
     */
    private String[] raw(String hostHeader, String path) throws Exception {
        try (RawConnection connection = RawHttp.connect(base.getPort())) {
            connection.send("GET " + path + " HTTP/1.1\r\nHost: " + hostHeader + "\r\nConnection: close\r\n\r\n");
            RawResponse response = connection.readResponse("GET");
            return new String[] {response.head().statusLine(), response.text()};
        }
    }

    @Test
    void answersUnderItsContextPathThroughTheFront() throws Exception {
        String[] response = raw("localhost", "/reach/info/x");
        assertEquals("HTTP/1.1 200 ", response[0]);
        assertTrue(response[1].contains("contextPath=/reach"), response[1]);
        assertTrue(response[1].contains("serverName=localhost"), response[1]);
        // the IP literal is not a Host name of the Engine: default Host, so the valve too
        assertEquals("HTTP/1.1 200 ", raw("127.0.0.1:" + base.getPort(), "/reach/info/x")[0]);
    }

    @Test
    void notThroughAnotherHostOfTheEngine() throws Exception {
        String[] response = raw(OTHER_HOST, "/reach/info/x");
        assertEquals("HTTP/1.1 404 ", response[0]);
        assertFalse(response[1].contains("contextPath="), response[1]);
        assertFalse(response[1].contains("error page"), response[1]); // not even the app's error page
        assertEquals("HTTP/1.1 404 ", raw(OTHER_HOST, "/reach/hello.jsp")[0]);
    }

    @Test
    void theInternalHostNameIsNoRouteOfItsOwn() throws Exception {
        // "portico" names no Host of the front Engine: Tomcat maps it to the default Host, whose
        // valve is what serves the app; the answer is the one any front request gets (the internal
        // Host, named like the front Host, sits in a Service without a connector)
        String[] response = raw("portico", "/reach/info/x");
        assertEquals("HTTP/1.1 200 ", response[0]);
        assertTrue(response[1].contains("serverName=portico"), response[1]);
        assertTrue(response[1].contains("localPort=" + base.getPort()), response[1]);
        assertEquals("HTTP/1.1 404 ", raw(OTHER_HOST, "/reach/info/x")[0]);
    }

    @Test
    void notUnderAnyOtherPath() throws Exception {
        for (String path : new String[] {"/", "/info/x", "/reachx/info/x", "/reac/info/x", "/servlets/info/x",
                "/REACH/info/x"}) {
            String[] response = raw("localhost", path);
            assertEquals("HTTP/1.1 404 ", response[0], path);
            assertFalse(response[1].contains("contextPath="), path + ": " + response[1]);
            assertFalse(response[1].contains("error page"), path + ": " + response[1]);
        }
        // the front Host's own webapp still answers its path (fall-through)
        String[] plain = raw("localhost", "/plain/x");
        assertEquals("HTTP/1.1 200 ", plain[0]);
        assertTrue(plain[1].contains("plain tomcat /plain/x"), plain[1]);
    }
}
