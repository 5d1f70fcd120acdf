package dev.portico.outofprocess;

import java.beans.PropertyChangeListener;

import org.apache.catalina.Context;
import org.apache.catalina.Loader;

/**
 * The class loader of a forwarding Context: Portico's own, behind a loader of the Context's own
 * (JNDI and Tomcat's bindings are keyed by it). A forwarding Context runs no web application
 * code, so it has no WebappClassLoader: that one's stop looks for threads still running with it
 * as their context loader, and Tomcat's background thread, caught in the Context's periodic work
 * as the Context stopped, was reported as a thread the app "failed to stop".
 */
final class ForwardingLoader implements Loader {

    private final ClassLoader classLoader;
    private Context context;

    ForwardingLoader(String contextName) {
        this.classLoader = new ClassLoader("portico-forward[" + contextName + "]",
                ForwardingLoader.class.getClassLoader()) {
        };
    }

    @Override
    public void backgroundProcess() {
    }

    @Override
    public ClassLoader getClassLoader() {
        return classLoader;
    }

    @Override
    public Context getContext() {
        return context;
    }

    @Override
    public void setContext(Context context) {
        this.context = context;
    }

    @Override
    public boolean getDelegate() {
        return true;
    }

    @Override
    public void setDelegate(boolean delegate) {
    }

    @Override
    public void addPropertyChangeListener(PropertyChangeListener listener) {
    }

    @Override
    public boolean modified() {
        return false;
    }

    @Override
    public void removePropertyChangeListener(PropertyChangeListener listener) {
    }
}
