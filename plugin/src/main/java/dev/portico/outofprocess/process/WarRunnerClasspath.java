package dev.portico.outofprocess.process;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The class path of the child JVM that runs a WAR out-of-process: the Tomcat this Portico runs
 * in, plus the Portico jar (which carries the runner and portico-integration). Reusing the front
 * Tomcat's own jars means the WAR runs on exactly the Tomcat version the administrator installed,
 * and nothing extra has to be shipped or downloaded.
 */
final class WarRunnerClasspath {

    /** Classes whose jars, together, make a runnable embedded Tomcat with JSP and WebSocket when present. */
    private static final String[] TOMCAT_CLASSES = {
        "org.apache.catalina.startup.Tomcat",
        "org.apache.coyote.http11.Http11NioProtocol",
        "org.apache.tomcat.util.buf.ByteChunk",
        "org.apache.tomcat.util.scan.StandardJarScanner",
        "org.apache.tomcat.InstanceManager",
        "org.apache.juli.logging.LogFactory",
        "org.apache.naming.NamingContext",
        "jakarta.servlet.Servlet",
        "jakarta.annotation.Resource",
        "jakarta.security.auth.message.config.AuthConfigFactory",
        "org.apache.jasper.servlet.JspServlet",
        "jakarta.servlet.jsp.JspFactory",
        "jakarta.el.ExpressionFactory",
        "org.apache.el.ExpressionFactoryImpl",
        "org.eclipse.jdt.internal.compiler.Compiler",
        "org.apache.tomcat.websocket.server.WsSci",
        "jakarta.websocket.Endpoint",
    };

    private static volatile List<String> entries;

    private WarRunnerClasspath() {
    }

    static List<String> entries() {
        List<String> result = entries;
        if (result == null) {
            result = compute();
            entries = result;
        }
        return result;
    }

    private static List<String> compute() {
        Set<String> paths = new LinkedHashSet<>();
        String catalinaHome = System.getProperty("catalina.home");
        Path lib = catalinaHome == null ? null : Path.of(catalinaHome, "lib");
        if (lib != null && Files.isRegularFile(lib.resolve("catalina.jar"))) {
            // a real distribution: the whole of lib/ and the JULI jar from bin/
            paths.add(lib + File.separator + "*");
            Path juli = Path.of(catalinaHome, "bin", "tomcat-juli.jar");
            if (Files.isRegularFile(juli)) {
                paths.add(juli.toString());
            }
        } else {
            ClassLoader loader = WarRunnerClasspath.class.getClassLoader();
            for (String name : TOMCAT_CLASSES) {
                String location = locationOf(name, loader);
                if (location != null) {
                    paths.add(location);
                }
            }
        }
        String self = locationOf(WarRunnerClasspath.class.getName(), WarRunnerClasspath.class.getClassLoader());
        if (self != null) {
            paths.add(self);
        }
        String integration = locationOf(ProcessLauncher.WAR_RUNNER_MAIN, WarRunnerClasspath.class.getClassLoader());
        if (integration != null) {
            paths.add(integration);
        }
        return new ArrayList<>(paths);
    }

    private static String locationOf(String className, ClassLoader loader) {
        try {
            Class<?> type = Class.forName(className, false, loader);
            var source = type.getProtectionDomain().getCodeSource();
            if (source == null || source.getLocation() == null) {
                return null;
            }
            return new File(source.getLocation().toURI()).getPath();
        } catch (ClassNotFoundException | LinkageError | URISyntaxException | SecurityException e) {
            return null;
        }
    }
}
