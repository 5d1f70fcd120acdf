package dev.portico.config;

import java.util.Set;

/** The names of the environment variables Portico gives every backend process (docs/backend-contract.md). */
public final class BackendEnvironment {

    public static final String PORT = "PORTICO_PORT";
    /** Instead of {@link #PORT} with {@code transport="unix"}: the path of the Unix domain socket to listen on. */
    public static final String SOCKET = "PORTICO_SOCKET";
    public static final String TOKEN = "PORTICO_TOKEN";
    public static final String PATH_BASE = "PORTICO_PATH_BASE";
    public static final String PARENT_PID = "PORTICO_PARENT_PID";
    public static final String HOSTING_MODEL = "PORTICO_HOSTING_MODEL";

    /** The variables a process reached over {@code transport} is given: the port or the socket, never both. */
    public static Set<String> names(BackendTransport transport) {
        return Set.of(transport == BackendTransport.UNIX ? SOCKET : PORT, TOKEN, PATH_BASE, PARENT_PID, HOSTING_MODEL);
    }

    private BackendEnvironment() {
    }
}
