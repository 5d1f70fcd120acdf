package dev.portico.jmx;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.modeler.Registry;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.hooks.api.HostingEvent;
import dev.portico.hooks.api.ProcessExited;
import dev.portico.hooks.api.ProcessReady;
import dev.portico.hosting.AppCatalog;
import dev.portico.hosting.HostingEvents;

/**
 * Registers one {@link ManagedApp} MBean per hosted app through Tomcat's modeler
 * {@link Registry} (so this package's mbeans-descriptors.xml describes it, as Tomcat's own
 * components are described) when the app appears in the catalog, and removes it with the app;
 * and one {@link ManagedProcess} per ready backend process, from the process's ready event to its
 * exit.
 */
public final class AppMBeans implements AppCatalog.SlotListener, HostingEvents {

    private static final Log log = LogFactory.getLog(AppMBeans.class);
    private static final StringManager sm = StringManager.getManager(AppMBeans.class);

    private final String domain;
    private final String hostName;
    private final Map<AppCatalog.Slot, ObjectName> registered = new ConcurrentHashMap<>();
    private final Map<Long, ObjectName> processes = new ConcurrentHashMap<>();
    private volatile AppCatalog catalog;

    /** @param domain the valve's JMX domain ({@code Catalina} in a standard server.xml) */
    public AppMBeans(String domain, String hostName) {
        this.domain = domain;
        this.hostName = hostName;
    }

    /** {@code Catalina:type=PorticoApp,host=localhost,name=/shop} ({@code name=/} for ROOT). */
    public static ObjectName objectName(String domain, String hostName, String path) throws MalformedObjectNameException {
        return new ObjectName(domain + ":type=PorticoApp,host=" + value(hostName) + ",name=" + value(path));
    }

    /** {@code Catalina:type=PorticoProcess,host=localhost,app=/shop,pid=1234}. */
    public static ObjectName processName(String domain, String hostName, String path, long pid)
            throws MalformedObjectNameException {
        return new ObjectName(domain + ":type=PorticoProcess,host=" + value(hostName) + ",app=" + value(path)
                + ",pid=" + pid);
    }

    @Override
    public void tell(HostingEvent event) {
        if (event instanceof ProcessReady ready) {
            registerProcess(ready.app(), ready.pid());
        } else if (event instanceof ProcessExited exited) {
            unregisterProcess(exited.pid());
        }
    }

    private void registerProcess(String app, long pid) {
        AppCatalog known = catalog;
        AppCatalog.Slot slot = known == null ? null : known.slot(app);
        if (slot == null) {
            return;
        }
        String path = slot.source().displayPath();
        try {
            ObjectName name = processName(domain, hostName, path, pid);
            Registry.getRegistry(null, null).registerComponent(new ManagedProcess(slot, pid), name, null);
            processes.put(pid, name);
        } catch (Exception e) {
            log.warn(sm.getString("mbeans.registerFailed", app + " pid " + pid), e);
        }
    }

    private void unregisterProcess(long pid) {
        ObjectName name = processes.remove(pid);
        if (name != null) {
            Registry.getRegistry(null, null).unregisterComponent(name);
        }
    }

    /** Removes every process MBean still registered (the valve is stopping). */
    public void unregisterProcesses() {
        for (Long pid : processes.keySet()) {
            ObjectName name = processes.remove(pid);
            if (name != null) {
                Registry.getRegistry(null, null).unregisterComponent(name);
            }
        }
    }

    @Override
    public void added(AppCatalog catalog, AppCatalog.Slot slot) {
        this.catalog = catalog;
        String path = slot.source().displayPath();
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
