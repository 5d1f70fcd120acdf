package dev.portico.inprocess;

import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleEvent;
import org.apache.catalina.LifecycleListener;
import org.apache.catalina.startup.Tomcat;

/**
 * What conf/web.xml gives every webapp of a standalone Tomcat (the default servlet, the JSP
 * servlet, welcome files, MIME types), for a Tomcat that has no conf/web.xml (embedded). With a
 * conf/web.xml Portico lets ContextConfig read it, as Tomcat does for its own webapps.
 */
final class WebappDefaults implements LifecycleListener {

    private static final String JSP_SERVLET = "org.apache.jasper.servlet.JspServlet";

    @Override
    public void lifecycleEvent(LifecycleEvent event) {
        if (!Lifecycle.BEFORE_START_EVENT.equals(event.getType())) {
            return;
        }
        Context context = (Context) event.getLifecycle();
        Tomcat.initWebappDefaults(context);
        if (!jasperAvailable(context)) {
            context.removeServletMapping("*.jsp");
            context.removeServletMapping("*.jspx");
            context.removeChild(context.findChild("jsp"));
        }
    }

    private static boolean jasperAvailable(Context context) {
        try {
            Class.forName(JSP_SERVLET, false, context.getParentClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
