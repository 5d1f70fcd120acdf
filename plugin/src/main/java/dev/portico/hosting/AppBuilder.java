package dev.portico.hosting;

import java.io.IOException;
import java.io.InputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.AppConfig;
import dev.portico.config.ConfigException;
import dev.portico.config.Excerpt;
import dev.portico.config.PorticoXml;

/**
 * Makes the hosted app for an app's source from its portico.xml (read from inside a packed WAR
 * too). A configuration that cannot be applied still gives an app: one that answers 500.19,
 * so that the administrator sees why rather than a 404.
 */
final class AppBuilder {

    // the catalog's category and messages: moving the code out of AppCatalog changed no log line
    private static final Log log = LogFactory.getLog(AppCatalog.class);
    private static final StringManager sm = StringManager.getManager(AppCatalog.class);

    private final PorticoXml parser;
    private final AppFactory factory;
    private final boolean showConfigDetails;

    AppBuilder(PorticoXml parser, AppFactory factory, boolean showConfigDetails) {
        this.parser = parser;
        this.factory = factory;
        this.showConfigDetails = showConfigDetails;
    }

    HostedApp build(AppSource source) {
        try {
            return factory.create(source, readConfig(source));
        } catch (ConfigException e) {
            log.error(sm.getString("catalog.configError", source.name(), e.getMessage()));
            return new MisconfiguredApp(e, showConfigDetails);
        } catch (Exception e) {
            log.error(sm.getString("catalog.createFailed", source.name()), e);
            ConfigException wrapped = new ConfigException(source.configFile(), "could not be applied: " + Excerpt.of(e.toString()), e);
            return new MisconfiguredApp(wrapped, showConfigDetails);
        }
    }

    private AppConfig readConfig(AppSource source) throws ConfigException {
        if (!source.packedWar()) {
            return AppBaseScan.present(source.configFile())
                    ? parser.read(source.configFile(), source.directory(), source.war())
                    : parser.defaultsFor(source.directory(), source.war());
        }
        try (ZipFile zip = new ZipFile(source.location().toFile())) {
            ZipEntry entry = zip.getEntry("WEB-INF/" + PorticoXml.FILE_NAME);
            if (entry == null) {
                return parser.defaultsFor(source.directory(), true);
            }
            if (entry.isDirectory()) {
                throw new ConfigException(source.configFile(), "is a directory, not a file", null);
            }
            try (InputStream in = zip.getInputStream(entry)) {
                return parser.read(in, source.configFile(), source.directory(), true);
            }
        } catch (IOException e) {
            throw new ConfigException(source.location(), "cannot be read as a WAR (" + Excerpt.of(e.getMessage()) + ")", e);
        }
    }
}
