package dev.portico.arquillian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRegistration;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.portico.arquillian.app.AppListener;
import dev.portico.arquillian.app.InfoServlet;
import dev.portico.arquillian.app.UploadServlet;

/**
 * In-container tests (servlet protocol): Arquillian adds its runner servlet
 * (ArquillianServletRunnerEE9, a web fragment in WEB-INF/lib) and this class to the WAR, the
 * WAR is hosted in-process by the valve, and each test method runs inside it — reached, like
 * any request, through the front connector and the valve.
 */
@ExtendWith(ArquillianExtension.class)
class InContainerTest {

    @ArquillianResource
    private ServletContext servletContext;

    @ArquillianResource
    private URL base;

    @Deployment // testable: the servlet protocol
    static WebArchive deployment() {
        return TestWar.create("incontainer.war");
    }

    @Test
    void runsInsideTheHostedWar() {
        assertNotNull(servletContext);
        assertEquals("/incontainer", servletContext.getContextPath());
        assertEquals("inProcess", servletContext.getInitParameter("portico.hostingModel"));
        assertEquals("/incontainer/", base.getPath());
        @SuppressWarnings("unchecked")
        java.util.List<String> events = (java.util.List<String>) servletContext.getAttribute(AppListener.EVENTS);
        assertEquals(java.util.List.of("contextInitialized /incontainer"), events);
    }

    @Test
    void thisClassAndTheAppsClassesAreLoadedByTheWebappLoader() {
        ClassLoader webapp = servletContext.getClassLoader();
        assertEquals("org.apache.catalina.loader.ParallelWebappClassLoader", webapp.getClass().getName());
        assertSame(webapp, getClass().getClassLoader(), "the test class itself, from WEB-INF/classes");
        assertSame(webapp, InfoServlet.class.getClassLoader());
        assertSame(webapp, Thread.currentThread().getContextClassLoader());
        // the same class name on the test classpath (the webapp loader's parent chain) is another class
        ClassLoader parent = webapp.getParent();
        try {
            Class<?> outside = Class.forName(InfoServlet.class.getName(), false, parent);
            assertNotSame(InfoServlet.class, outside);
        } catch (ClassNotFoundException e) {
            // a parent without the test classes is fine too
        }
        String location = InfoServlet.class.getProtectionDomain().getCodeSource().getLocation().toString();
        assertTrue(location.contains("/apps/incontainer/WEB-INF/classes") || location.contains("incontainer.war"),
                location);
        // the Servlet API is the container's, shared (not a copy in the WAR)
        assertNotSame(webapp, ServletContext.class.getClassLoader());
    }

    @Test
    void theAppsServletsAreRegisteredAlongsideArquillians() {
        ServletRegistration upload = servletContext.getServletRegistration(UploadServlet.class.getName());
        assertNotNull(upload, servletContext.getServletRegistrations().keySet().toString());
        assertTrue(upload.getMappings().contains("/upload"));
        assertNotNull(servletContext.getServletRegistration("ArquillianServletRunnerEE9"));
        assertNotNull(servletContext.getServletRegistration("jsp"), "Jasper's JSP servlet");
    }
}
