package dev.portico;

import org.apache.catalina.LifecycleException;
import org.apache.catalina.valves.ValveBase;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.config.Attribute;
import dev.portico.config.ValveSettings;

/**
 * The attributes of {@link PorticoValve}: those of the table {@link Attribute} whose scope is the
 * valve — its own settings, and for app attributes the default of every app of the Host. They
 * reach the valve the way Tomcat reaches a Connector's protocol properties: Tomcat's digester
 * (IntrospectionUtils) calls a typed setter when there is one and falls back to the generic
 * {@link #setProperty(String, String)}, and the valve's MBean (jmx.ValveMBean) reads any
 * attribute through {@link #getProperty(String)}. So an attribute added to the table needs no
 * code here. The typed accessors are those the valve had before the table, kept as one-liners for
 * Java callers (embedding code, tests) and so that a boolean keeps Tomcat's own reading of its
 * text. Every value, typed or not, is parsed and range-checked by the table, and a refused one
 * names the attribute, the value and what is accepted.
 */
public abstract class ValveAttributes extends ValveBase {

    private static final StringManager sm = StringManager.getManager(ValveAttributes.class);

    /** Every attribute's value; the table says which there are and what they accept. */
    protected final ValveSettings settings = new ValveSettings(
            (attribute, value, reason) -> sm.getString("valve.badAttribute", attribute, value, reason));

    protected ValveAttributes() {
        super(true);
    }

    /** What no single attribute can be refused for when it is set: values that must go together. */
    protected void requireConsistentAttributes() throws LifecycleException {
        try {
            settings.checkTogether();
        } catch (IllegalArgumentException e) {
            throw new LifecycleException(e.getMessage(), e);
        }
    }

    /**
     * Sets a valve attribute from its text, as written in server.xml. Tomcat's digester comes here
     * for every attribute without a typed setter below, and for one whose typed setter cannot take
     * the text (a number that is not one), so that the refusal names the accepted values.
     *
     * @return false for a name the valve does not have (Tomcat warns of it as for any component)
     * @throws IllegalArgumentException naming the attribute, the value and what is accepted
     */
    public boolean setProperty(String name, String value) {
        return settings.set(name, value);
    }

    /** The attribute's value as its MBean shows it; null for a name the valve does not have. */
    public Object getProperty(String name) {
        return settings.shown(name);
    }

    // the typed accessors of the attributes the valve had before the table
    public String getAppBase() { return (String) getProperty("appBase"); }
    public void setAppBase(String appBase) { setProperty("appBase", appBase); }
    public int getStartupTimeLimit() { return (int) getProperty("startupTimeLimit"); }
    public void setStartupTimeLimit(int seconds) { setProperty("startupTimeLimit", String.valueOf(seconds)); }
    public int getShutdownTimeLimit() { return (int) getProperty("shutdownTimeLimit"); }
    public void setShutdownTimeLimit(int seconds) { setProperty("shutdownTimeLimit", String.valueOf(seconds)); }
    public int getRapidFailsPerMinute() { return (int) getProperty("rapidFailsPerMinute"); }
    public void setRapidFailsPerMinute(int count) { setProperty("rapidFailsPerMinute", String.valueOf(count)); }
    public int getRequestTimeout() { return (int) getProperty("requestTimeout"); }
    public void setRequestTimeout(int seconds) { setProperty("requestTimeout", String.valueOf(seconds)); }
    public boolean getStdoutLogEnabled() { return (boolean) getProperty("stdoutLogEnabled"); }
    public void setStdoutLogEnabled(boolean enabled) { setProperty("stdoutLogEnabled", String.valueOf(enabled)); }
    public String getStdoutLogFile() { return (String) getProperty("stdoutLogFile"); }
    public void setStdoutLogFile(String prefix) { setProperty("stdoutLogFile", prefix); }
    public String getStdoutLogMaxSize() { return (String) getProperty("stdoutLogMaxSize"); }
    public void setStdoutLogMaxSize(String size) { setProperty("stdoutLogMaxSize", size); }
    public int getStdoutLogMaxFiles() { return (int) getProperty("stdoutLogMaxFiles"); }
    public void setStdoutLogMaxFiles(int files) { setProperty("stdoutLogMaxFiles", String.valueOf(files)); }
    public boolean getDisableStartUpErrorPage() { return (boolean) getProperty("disableStartUpErrorPage"); }
    public void setDisableStartUpErrorPage(boolean disable) { setProperty("disableStartUpErrorPage", String.valueOf(disable)); }
    public boolean getForwardPrincipal() { return (boolean) getProperty("forwardPrincipal"); }
    public void setForwardPrincipal(boolean forward) { setProperty("forwardPrincipal", String.valueOf(forward)); }
    public boolean getPreloadEnabled() { return (boolean) getProperty("preloadEnabled"); }
    public void setPreloadEnabled(boolean preload) { setProperty("preloadEnabled", String.valueOf(preload)); }
    public boolean getPreserveHostHeader() { return (boolean) getProperty("preserveHostHeader"); }
    public void setPreserveHostHeader(boolean preserve) { setProperty("preserveHostHeader", String.valueOf(preserve)); }
    public String getTransport() { return (String) getProperty("transport"); }
    public void setTransport(String transport) { setProperty("transport", transport); }
    public int getScanInterval() { return (int) getProperty("scanInterval"); }
    public void setScanInterval(int millis) { setProperty("scanInterval", String.valueOf(millis)); }
    public int getRescanInterval() { return (int) getProperty("rescanInterval"); }
    public void setRescanInterval(int seconds) { setProperty("rescanInterval", String.valueOf(seconds)); }
    public String getStatusPath() { return (String) getProperty("statusPath"); }
    public void setStatusPath(String statusPath) { setProperty("statusPath", statusPath); }
    public String getStatusRoles() { return (String) getProperty("statusRoles"); }
    public void setStatusRoles(String roles) { setProperty("statusRoles", roles); }
    public String getHooksPath() { return (String) getProperty("hooksPath"); }
    public void setHooksPath(String hooksPath) { setProperty("hooksPath", hooksPath); }
    public int getHookTimeLimit() { return (int) getProperty("hookTimeLimit"); }
    public void setHookTimeLimit(int seconds) { setProperty("hookTimeLimit", String.valueOf(seconds)); }
    public int getForwardingThreads() { return (int) getProperty("forwardingThreads"); }
    public void setForwardingThreads(int threads) { setProperty("forwardingThreads", String.valueOf(threads)); }
}
