package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.portico.testsupport.Poll;

/**
 * The lifecycle hooks in the real distribution, from the one drop-in jar in lib/: the example
 * hook of docs/hooks.md in the default hooksPath ($CATALINA_BASE/portico/hooks) records a real
 * crash, and a webapp (a JSP, compiled by the distribution's Jasper) finds none of Weld's or
 * CDI's classes, although the plugin jar that carries them is in Tomcat's common loader.
 */
class LifecycleHooksIT {

    private static final String PROBE_JSP = """
            <%@ page contentType="text/plain;charset=UTF-8" %><%!
              static String find(ClassLoader loader, String name) {
                try {
                  Class.forName(name, false, loader);
                  return "found";
                } catch (ClassNotFoundException e) {
                  return "absent";
                }
              }
            %><% ClassLoader app = Thread.currentThread().getContextClassLoader(); %>cdi=<%= find(app, "jakarta.enterprise.inject.spi.CDI") %> weld=<%= find(app, "org.jboss.weld.environment.se.Weld") %> inject=<%= find(app, "jakarta.inject.Inject") %> events=<%= find(app, "dev.portico.hooks.api.ProcessExited") %>""";

    @Test
    void theExampleHookRecordsACrashAndWebappsSeeNoCdi() throws IOException {
        try (TomcatDistribution tomcat = TomcatDistribution.named("hooks").create()) {
            Path hooks = Files.createDirectories(tomcat.catalinaBase().resolve("portico/hooks"));
            Files.copy(E2eSettings.exampleHook(), hooks.resolve("crash-log.jar"));
            tomcat.writeApp("node", PorticoXml.nodeBackend().asFile());
            tomcat.writeApp("probe", AppFile.of("WEB-INF/web.xml",
                    "<web-app xmlns=\"https://jakarta.ee/xml/ns/jakartaee\" version=\"6.1\"/>"),
                    AppFile.of("index.jsp", PROBE_JSP));
            tomcat.start();

            long pid = tomcat.http().getJson("/node/env").path("pid").asLong();
            assertEquals("crashing", tomcat.http().get("/node/crash").body());
            Path crashes = hooks.resolve("crashes.log");
            String log = Poll.until(Duration.ofSeconds(20), "the example hook's crashes.log", () -> read(crashes),
                    text -> text.contains("crash app=node pid=" + pid + " exitCode=3"));
            assertTrue(log.contains("    [node " + pid + "] crashing on purpose (exit 3)"), "the process's last output, indented:\n" + log);

            String probe = tomcat.http().get("/probe/").body().trim();
            assertEquals("cdi=absent weld=absent inject=absent events=found", probe,
                    "only the plain event classes are in the common loader");
            assertTrue(tomcat.log().contains("Portico lifecycle hooks: Weld SE container [portico-localhost] started"),
                    tomcat.logTail());

            tomcat.stop();
            tomcat.assertNoLeftoverProcesses();
            tomcat.assertCleanLog();
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
