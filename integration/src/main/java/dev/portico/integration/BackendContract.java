package dev.portico.integration;

import java.util.Set;

/**
 * The contract between Portico and the processes it hosts (docs/backend-contract.md), defined
 * once: the environment a backend is started with, the headers Portico owns on what it forwards,
 * and the path below every app that is Portico's. The plugin (which sets them) and this library
 * (which reads them in a backend) both use these names.
 */
public final class BackendContract {

    /** The loopback port to listen on (transport="tcp"). */
    public static final String PORT = "PORTICO_PORT";
    /** The Unix domain socket to listen on instead of {@link #PORT} (transport="unix"). */
    public static final String SOCKET = "PORTICO_SOCKET";
    /** The pairing token every forwarded request carries in {@link #TOKEN_HEADER}. */
    public static final String TOKEN = "PORTICO_TOKEN";
    /** The context path clients see ({@code ""} for the root app). */
    public static final String PATH_BASE = "PORTICO_PATH_BASE";
    /** The pid of the front Tomcat JVM: a backend may end itself when it is gone. */
    public static final String PARENT_PID = "PORTICO_PARENT_PID";
    /** {@code outOfProcess}: lets a WAR tell how it is hosted. */
    public static final String HOSTING_MODEL = "PORTICO_HOSTING_MODEL";
    /** The WAR runner's work directory. */
    public static final String WORK_DIR = "PORTICO_WORK_DIR";

    public static final String TOKEN_HEADER = "X-Portico-Token";
    /** The front's authenticated user (forwardPrincipal), trusted only with a valid token. */
    public static final String PRINCIPAL_HEADER = "X-Portico-Principal";
    public static final String ROLES_HEADER = "X-Portico-Roles";
    public static final String CLIENT_CERT_HEADER = "X-Portico-Client-Cert";
    /** With {@link #SHUTDOWN_EVENT} on a POST to {@link #SHUTDOWN_PATH}: the shutdown message. */
    public static final String EVENT_HEADER = "X-Portico-Event";
    public static final String SHUTDOWN_EVENT = "shutdown";

    /** Portico's path below every app: never forwarded from a client. */
    public static final String RESERVED_PATH = "/.portico";
    public static final String SHUTDOWN_PATH = RESERVED_PATH + "/shutdown";

    private BackendContract() {
    }

    /** The variables Portico gives every process it starts: the port or the socket, never both. */
    public static Set<String> environmentNames(boolean unixSocket) {
        return Set.of(unixSocket ? SOCKET : PORT, TOKEN, PATH_BASE, PARENT_PID, HOSTING_MODEL);
    }
}
