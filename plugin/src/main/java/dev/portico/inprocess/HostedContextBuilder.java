package dev.portico.inprocess;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.catalina.Cluster;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.Manager;
import org.apache.catalina.deploy.NamingResourcesImpl;
import org.apache.catalina.session.StandardManager;
import org.apache.catalina.startup.Constants;
import org.apache.catalina.startup.ContextConfig;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.descriptor.web.ApplicationParameter;
import org.apache.tomcat.util.descriptor.web.ContextEnvironment;
import org.apache.tomcat.util.descriptor.web.SecurityCollection;
import org.apache.tomcat.util.descriptor.web.SecurityConstraint;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.AppConfig;
import dev.portico.config.Placeholders;
import dev.portico.hosting.AppSource;

/**
 * Makes the Context of each generation of one in-process app: configured from the WAR as
 * Tomcat's deployer would configure a webapp (web.xml, META-INF/context.xml, conf/web.xml),
 * plus what portico.xml adds (environment variables, the stdout log).
 */
final class HostedContextBuilder {

    // InProcessApp's category and messages: moving the code out of it changed no log line
    private static final Log log = LogFactory.getLog(InProcessApp.class);
    private static final StringManager sm = StringManager.getManager(InProcessApp.class);

    private final AppSource source;
    private final AppConfig config;
    /** Whether conf/web.xml exists; without it the Context gets Tomcat's defaults from {@link WebappDefaults}. */
    private final boolean defaultWebXml;

    HostedContextBuilder(AppSource source, AppConfig config, boolean defaultWebXml) {
        this.source = source;
        this.config = config;
        this.defaultWebXml = defaultWebXml;
    }

    HostedContext newContext(String version, Path workDir, StdoutCapture stdout) {
        HostedContext ctx = new HostedContext();
        ctx.setName(source.contextPath() + "##" + version);
        ctx.setPath(source.contextPath());
        ctx.setWebappVersion(version);
        ctx.setDocBase(source.location().toString());
        // A packed WAR is expanded as Tomcat expands webapps/x.war, but into the internal Host's
        // appBase below Portico's work directory, where no deployer looks: served from the
        // archive, each of its jars is read through the WAR at every scan (a 40 MB WAR started
        // several times slower than from webapps/). One directory per generation.
        ctx.setUnpackWAR(true);
        ctx.setWorkDir(workDir.toString());
        contextXml(ctx);
        configureAsAWebapp(ctx);
        parameter(ctx, InProcessApp.HOSTING_MODEL_PARAMETER, "inProcess");
        environment(ctx);
        if (config.stdoutLogEnabled()) {
            hideLogDirectory(ctx);
            ctx.addLifecycleListener(event -> {
                if (Lifecycle.CONFIGURE_START_EVENT.equals(event.getType())) {
                    stdout.open(ctx.getLoader().getClassLoader());
                } else if (Lifecycle.AFTER_STOP_EVENT.equals(event.getType())) {
                    stdout.close();
                }
            });
        }
        return ctx;
    }

    private void configureAsAWebapp(HostedContext ctx) {
        ContextConfig contextConfig = new ContextConfig();
        if (!defaultWebXml) {
            contextConfig.setDefaultWebXml(Constants.NoDefaultWebXml);
            ctx.addLifecycleListener(new WebappDefaults());
        }
        ctx.addLifecycleListener(contextConfig);
        // after ContextConfig, which reads <distributable/> at the same event
        ctx.addLifecycleListener(event -> {
            if (Lifecycle.CONFIGURE_START_EVENT.equals(event.getType()) && ctx.getManager() == null) {
                ctx.setManager(sessionManager(ctx));
            }
        });
    }

    /** portico.xml's environment variables, as context parameters and as JNDI environment entries. */
    private void environment(HostedContext ctx) {
        NamingResourcesImpl naming = ctx.getNamingResources();
        config.environmentVariables().forEach((name, written) -> {
            // a running JVM has no environment of its own to give: references see Tomcat's
            String value = Placeholders.expand(written, System::getenv);
            parameter(ctx, name, value);
            ContextEnvironment entry = new ContextEnvironment();
            entry.setName(name);
            entry.setType(String.class.getName());
            entry.setValue(value);
            entry.setOverride(false);
            naming.addEnvironment(entry);
        });
    }

    private void contextXml(HostedContext ctx) {
        try {
            if (source.packedWar()) {
                try (java.util.zip.ZipFile war = new java.util.zip.ZipFile(source.location().toFile())) {
                    if (war.getEntry("META-INF/context.xml") == null) {
                        return;
                    }
                } catch (IOException e) {
                    return; // ContextConfig will say what is wrong with the archive
                }
                ctx.setConfigFile(URI.create("jar:" + source.location().toUri() + "!/META-INF/context.xml").toURL());
            } else {
                Path xml = source.location().resolve("META-INF").resolve("context.xml");
                if (Files.isRegularFile(xml)) {
                    ctx.setConfigFile(xml.toUri().toURL());
                }
            }
        } catch (MalformedURLException | IllegalArgumentException e) {
            log.warn(sm.getString("inProcess.contextXmlIgnored", source.name(), e.toString()));
        }
    }

    /** A stdout log inside an exploded WAR must not be served as static content. */
    private void hideLogDirectory(HostedContext ctx) {
        Path root = source.location().toAbsolutePath().normalize();
        Path logDir = config.stdoutLogFile().toAbsolutePath().normalize().getParent();
        if (source.packedWar() || logDir == null || !logDir.startsWith(root) || logDir.equals(root)) {
            return;
        }
        SecurityConstraint deny = new SecurityConstraint();
        deny.setAuthConstraint(true); // no role can satisfy it
        SecurityCollection collection = new SecurityCollection();
        collection.addPatternDecoded("/" + root.relativize(logDir).toString().replace('\\', '/') + "/*");
        deny.addCollection(collection);
        ctx.addConstraint(deny);
    }

    /**
     * A distributable app on a clustered front gets its session manager from the cluster, as a
     * webapp does, but named by its path rather than its versioned Context name, so the name is
     * the same on every node and in every generation ({@code <host>#<path>}, a webapp's name).
     * Otherwise a recycled app starts afresh, as an ANCM in-process app does: no SESSIONS.ser.
     */
    private static Manager sessionManager(HostedContext ctx) {
        Cluster cluster = ctx.getCluster();
        if (cluster != null && ctx.getDistributable()) {
            return cluster.createManager(ctx.getPath());
        }
        StandardManager manager = new StandardManager();
        manager.setPathname(null);
        return manager;
    }

    private static void parameter(HostedContext ctx, String name, String value) {
        ApplicationParameter parameter = new ApplicationParameter();
        parameter.setName(name);
        parameter.setValue(value);
        parameter.setOverride(false); // Portico's value wins over a context-param of the same name
        ctx.addApplicationParameter(parameter);
    }
}
