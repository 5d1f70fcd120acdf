package dev.portico.config;

import java.util.Set;

/** The names of the environment variables Portico gives every backend process (docs/backend-contract.md). */
public final class BackendEnvironment {

    public static final String PORT = "PORTICO_PORT";
    public static final String TOKEN = "PORTICO_TOKEN";
    public static final String PATH_BASE = "PORTICO_PATH_BASE";
    public static final String PARENT_PID = "PORTICO_PARENT_PID";
    public static final String HOSTING_MODEL = "PORTICO_HOSTING_MODEL";

    public static final Set<String> NAMES = Set.of(PORT, TOKEN, PATH_BASE, PARENT_PID, HOSTING_MODEL);

    private BackendEnvironment() {
    }
}
