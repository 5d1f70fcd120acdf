package dev.portico.jmx;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.modeler.Registry;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.hosting.AppCatalog;

/**
 * Registers one {@link ManagedApp} MBean per hosted app through Tomcat's modeler
 * {@link Registry} (so this package's mbeans-descriptors.xml describes it, as Tomcat's own
 * components are described) when the app appears in the catalog, and removes it with the app.
 */
public final class AppMBeans implements AppCatalog.SlotListener {

    private static final Log log = LogFactory.getLog(AppMBeans.class);
    private static final StringManager sm = StringManager.getManager(AppMBeans.class);

    private final String domain;
    private final String hostName;
    private final Map<AppCatalog.Slot, ObjectName> registered = new ConcurrentHashMap<>();

    /** @param domain the valve's JMX domain ({@code Catalina} in a standard server.xml) */
    public AppMBeans(String domain, String hostName) {
        this.domain = domain;
        this.hostName = hostName;
    }

    /** {@code Catalina:type=PorticoApp,host=localhost,name=/shop} ({@code name=/} for ROOT). */
    public static ObjectName objectName(String domain, String hostName, String path) throws MalformedObjectNameException {
        return new ObjectName(domain + ":type=PorticoApp,host=" + value(hostName) + ",name=" + value(path));
    }

    @Override
    public void added(AppCatalog catalog, AppCatalog.Slot slot) {
        String path = slot.source().contextPath().isEmpty() ? "/" : slot.source().contextPath();
        try {
            ObjectName name = objectName(domain, hostName, path);
            Registry.getRegistry(null, null).registerComponent(new ManagedApp(catalog, slot), name, null);
            registered.put(slot, name);
        } catch (Exception e) {
            // hosting goes on without the MBean
            log.warn(sm.getString("mbeans.registerFailed", slot.source().name()), e);
        }
    }

    @Override
    public void removed(AppCatalog catalog, AppCatalog.Slot slot) {
        ObjectName name = registered.remove(slot);
        if (name != null) {
            Registry.getRegistry(null, null).unregisterComponent(name);
        }
    }

    private static String value(String text) {
        for (char c : text.toCharArray()) {
            if (c == ',' || c == '=' || c == ':' || c == '"' || c == '*' || c == '?' || c == '\n') {
                return ObjectName.quote(text);
            }
        }
        return text;
    }
}
