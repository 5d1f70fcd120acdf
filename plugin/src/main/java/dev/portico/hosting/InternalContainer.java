package dev.portico.hosting;

import java.io.IOException;
import java.lang.reflect.Method;
import java.util.List;

import jakarta.servlet.ServletException;

import org.apache.catalina.Cluster;
import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.Engine;
import org.apache.catalina.Host;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleEvent;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleListener;
import org.apache.catalina.Manager;
import org.apache.catalina.Realm;
import org.apache.catalina.Server;
import org.apache.catalina.Valve;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.core.StandardEngine;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.core.StandardService;
import org.apache.catalina.mapper.MappingData;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.IntrospectionUtils;
import org.apache.tomcat.util.buf.MessageBytes;
import org.apache.tomcat.util.res.StringManager;

/**
 * The Service, Engine and Host that hold the hosted apps' Contexts. No connector and no
 * deployer point at it, so a hosted Context is reachable only through the valve: the valve
 * maps the front request with this Service's Mapper and hands the same Request and Response to
 * this Engine's pipeline. Nothing is copied and no socket is involved; async processing keeps
 * working because an async dispatch follows {@code request.getHost()}, which is now this Host.
 *
 * <p>The internal Host is named after the front Host and answers the front Host's Realm and
 * Cluster: a Context finds both by asking its parents (ContainerBase), so a hosted Context
 * authenticates against the very Realm object the Host's own webapps use, and a distributable one
 * gets its session manager from the front's cluster under the name a webapp of the same path
 * would have ({@code <host>#<path>}).
 */
public final class InternalContainer {

    private static final Log log = LogFactory.getLog(InternalContainer.class);
    private static final StringManager sm = StringManager.getManager(InternalContainer.class);
    private static final String REPLICATION_VALVE = "org.apache.catalina.ha.tcp.ReplicationValve";
    /** SimpleTcpCluster's event after a manager left its registry (catalina-ha's constant). */
    private static final String AFTER_MANAGER_UNREGISTER = "after_manager_unregister";
    private static final List<String> REPLICATION_VALVE_SETTINGS = List.of("filter", "primaryIndicator", "primaryIndicatorName");

    private final StandardService service = new StandardService();
    private final StandardEngine engine = new StandardEngine();
    private final StandardHost host;
    private final String hostName;
    private final Cluster cluster;
    private final LifecycleListener rejoin = this::rejoinCluster;

    /**
     * @param expandedWars where Tomcat expands the packed WARs of in-process apps (the internal
     *                     Host's appBase): below Portico's work directory, where no deployer looks
     */
    public InternalContainer(Host frontHost, Server server, java.nio.file.Path expandedWars) {
        host = new FrontFacingHost(frontHost);
        hostName = frontHost.getName();
        String name = "Portico-" + frontHost.getName();
        service.setName(name);
        // Without a Server the Engine has no utility executor for its background tasks; the
        // Service is not added to the Server's list, so only the valve starts and stops it.
        service.setServer(server);
        service.setParentClassLoader(frontHost.getParentClassLoader());
        engine.setName(name);
        engine.setDefaultHost(hostName);
        host.setName(hostName);
        host.setAppBase(expandedWars.toAbsolutePath().toString());
        host.setAutoDeploy(false);
        host.setDeployOnStartup(false);
        engine.addChild(host);
        if (frontHost.getParent() instanceof Engine frontEngine) {
            // session ids carry the node's route, as the front's webapps' do (sticky load balancing)
            engine.setJvmRoute(frontEngine.getJvmRoute());
        }
        cluster = frontHost.getCluster();
        replicateSessionsOfHostedContexts(cluster);
        if (cluster instanceof Lifecycle lifecycle) {
            lifecycle.addLifecycleListener(rejoin);
        }
        engine.getPipeline().addValve(new FrontAccessLog(frontHost));
        service.setContainer(engine);
    }

    /**
     * A cluster's ReplicationValve sits on the front Engine (or Host) and takes the request's
     * Context when the request enters it, that is the front mapping's Context, before the valve
     * remapped the request: it would never replicate a hosted Context's session. A copy of it at
     * the head of the internal Engine sees the hosted Context. Reflection, because catalina-ha is
     * not on Portico's compile path (tomcat-embed-core has no cluster classes).
     */
    private void replicateSessionsOfHostedContexts(Cluster cluster) {
        if (cluster == null || cluster.getContainer() == null) {
            return;
        }
        for (Valve valve : cluster.getContainer().getPipeline().getValves()) {
            if (!valve.getClass().getName().equals(REPLICATION_VALVE)) {
                continue;
            }
            try {
                Valve copy = valve.getClass().getConstructor().newInstance();
                for (String setting : REPLICATION_VALVE_SETTINGS) {
                    Object value = IntrospectionUtils.getProperty(valve, setting);
                    if (value != null) {
                        IntrospectionUtils.setProperty(copy, setting, value.toString());
                    }
                }
                for (Method method : copy.getClass().getMethods()) {
                    if (method.getName().equals("setCluster") && method.getParameterCount() == 1
                            && method.getParameterTypes()[0].isInstance(cluster)) {
                        method.invoke(copy, cluster);
                    }
                }
                engine.getPipeline().addValve(copy);
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.warn(sm.getString("internal.replicationValveFailed", valve), e);
            }
        }
    }

    public void start() throws LifecycleException {
        try {
            java.nio.file.Files.createDirectories(host.getAppBaseFile().toPath());
        } catch (IOException e) {
            throw new LifecycleException(sm.getString("internal.appBaseFailed", host.getAppBaseFile()), e);
        }
        service.start();
    }

    public void stop() throws LifecycleException {
        if (cluster instanceof Lifecycle lifecycle) {
            lifecycle.removeLifecycleListener(rejoin);
        }
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
     * The generations of a distributable app share one cluster manager name (the app's path), so
     * the cluster's registry holds one entry for all of them, and a generation that stops removes
     * that entry, also when a newer generation running beside it had already put its own there.
     * When the cluster announces such a removal, the running generation registers again at once
     * (on the thread that removed it), or this node would neither send nor receive the app's sessions.
     */
    private void rejoinCluster(LifecycleEvent event) {
        if (!AFTER_MANAGER_UNREGISTER.equals(event.getType()) || !(event.getData() instanceof Manager gone)
                || gone.getContext() == null || gone.getContext().getParent() != host) {
            return;
        }
        Cluster cluster = host.getCluster();
        for (Container child : host.findChildren()) {
            if (child instanceof Context running && running != gone.getContext()
                    && running.getPath().equals(gone.getContext().getPath()) && running.getDistributable()
                    && running.getState().isAvailable() && running.getManager() != null && running.getManager() != gone) {
                cluster.registerManager(running.getManager());
            }
        }
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
        MessageBytes mappedHost = MessageBytes.newInstance();
        mappedHost.setString(hostName);
        service.getMapper().map(mappedHost, request.getCoyoteRequest().decodedURI(), version, mapping);
        return mapping.context != null;
    }

    /** Runs a request that {@link #map} has mapped through the internal Engine's pipeline. */
    public void invoke(Request request, Response response) throws IOException, ServletException {
        if (request.isAsyncSupported()) {
            request.setAsyncSupported(engine.getPipeline().isAsyncSupported());
        }
        engine.getPipeline().getFirst().invoke(request, response);
    }

    /**
     * The internal Host. Neither the front's Realm nor its Cluster is set on it (their lifecycle
     * stays with the front container that declares them); it only answers them to its Contexts.
     */
    private static final class FrontFacingHost extends StandardHost {
        private final Host front;

        FrontFacingHost(Host front) {
            this.front = front;
        }

        @Override
        public Realm getRealm() {
            return front.getRealm();
        }

        @Override
        public Cluster getCluster() {
            return front.getCluster();
        }
    }
}
