package dev.portico.hosting;

import java.io.IOException;

import jakarta.servlet.ServletException;

import org.apache.catalina.Context;
import org.apache.catalina.Host;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.Server;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.core.StandardEngine;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.core.StandardService;
import org.apache.catalina.mapper.MappingData;
import org.apache.tomcat.util.buf.MessageBytes;

/**
 * The Service, Engine and Host that hold the hosted apps' Contexts. No connector and no
 * deployer point at it, so a hosted Context is reachable only through the valve: the valve
 * maps the front request with this Service's Mapper and hands the same Request and Response to
 * this Engine's pipeline. Nothing is copied and no socket is involved; async processing keeps
 * working because an async dispatch follows {@code request.getHost()}, which is now this Host.
 */
public final class InternalContainer {

    private static final String HOST_NAME = "portico";

    private final StandardService service = new StandardService();
    private final StandardEngine engine = new StandardEngine();
    private final StandardHost host = new StandardHost();

    public InternalContainer(Host frontHost, Server server) {
        String name = "Portico-" + frontHost.getName();
        service.setName(name);
        // Without a Server the Engine has no utility executor for its background tasks; the
        // Service is not added to the Server's list, so only the valve starts and stops it.
        service.setServer(server);
        service.setParentClassLoader(frontHost.getParentClassLoader());
        engine.setName(name);
        engine.setDefaultHost(HOST_NAME);
        host.setName(HOST_NAME);
        host.setAppBase(frontHost.getAppBase());
        host.setAutoDeploy(false);
        host.setDeployOnStartup(false);
        engine.addChild(host);
        engine.getPipeline().addValve(new FrontAccessLog(frontHost));
        service.setContainer(engine);
    }

    public void start() throws LifecycleException {
        service.start();
    }

    public void stop() throws LifecycleException {
        service.stop();
        service.destroy();
    }

    public StandardHost host() {
        return host;
    }

    public void addContext(Context context) {
        host.addChild(context);
    }

    public void removeContext(Context context) {
        host.removeChild(context);
    }

    /**
     * Remaps the front request onto the internal Host and runs it through the internal Engine.
     *
     * @return false when no internal Context matches (the caller answers instead)
     */
    public boolean dispatch(Request request, Response response) throws IOException, ServletException {
        if (!map(request, null)) {
            return false;
        }
        invoke(request, response);
        return true;
    }

    /**
     * Remaps the front request onto the internal Host (its MappingData now names an internal
     * Context and Wrapper), without running it; {@link #invoke} does that.
     *
     * @param version the webapp version of the Context wanted, or null for the newest; when the
     *                version is not deployed the Mapper falls back to the newest
     * @return false when no internal Context matches
     */
    public boolean map(Request request, String version) throws IOException {
        MappingData mapping = request.getMappingData();
        mapping.recycle();
        MessageBytes hostName = MessageBytes.newInstance();
        hostName.setString(HOST_NAME);
        service.getMapper().map(hostName, request.getCoyoteRequest().decodedURI(), version, mapping);
        return mapping.context != null;
    }

    /** Runs a request that {@link #map} has mapped through the internal Engine's pipeline. */
    public void invoke(Request request, Response response) throws IOException, ServletException {
        if (request.isAsyncSupported()) {
            request.setAsyncSupported(engine.getPipeline().isAsyncSupported());
        }
        engine.getPipeline().getFirst().invoke(request, response);
    }
}
