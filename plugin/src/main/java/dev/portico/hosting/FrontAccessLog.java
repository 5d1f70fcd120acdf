package dev.portico.hosting;

import java.io.IOException;

import jakarta.servlet.ServletException;

import org.apache.catalina.AccessLog;
import org.apache.catalina.Host;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Sends the access-log entries of hosted apps to the front Host's access logs. Tomcat logs a
 * request through the parents of the Context that served it; for a hosted app those are the
 * internal Host and Engine, which the administrator never configured. Without this bridge the
 * AccessLogValve in server.xml would not see a single request of a hosted app.
 */
final class FrontAccessLog extends ValveBase implements AccessLog {

    private final Host frontHost;
    private boolean requestAttributesEnabled;

    FrontAccessLog(Host frontHost) {
        super(true);
        this.frontHost = frontHost;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        getNext().invoke(request, response);
    }

    @Override
    public void log(Request request, Response response, long time) {
        frontHost.logAccess(request, response, time, false);
    }

    @Override
    public void setRequestAttributesEnabled(boolean requestAttributesEnabled) {
        this.requestAttributesEnabled = requestAttributesEnabled;
    }

    @Override
    public boolean getRequestAttributesEnabled() {
        return requestAttributesEnabled;
    }
}
