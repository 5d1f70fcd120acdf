package dev.portico.integration;

import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.logging.Logger;

/**
 * The part of the Portico backend contract (docs/backend-contract.md) that the integration reads
 * from the environment. Parsed once, at start-up.
 *
 * @param token      the pairing token every request must carry
 * @param pathBase   the context path clients see, {@code ""} for the root app, or {@code null} if
 *                   Portico did not say
 * @param parentPid  the pid of the front Tomcat JVM, if given
 */
public record PorticoEnvironment(String token, String pathBase, OptionalLong parentPid) {

    private static final Logger LOG = Logger.getLogger(PorticoEnvironment.class.getName());

    public PorticoEnvironment {
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException(BackendContract.TOKEN + " must not be empty");
        }
    }

    /**
     * @return the settings, or empty when {@code PORTICO_TOKEN} is not set: the process is then not
     *         running behind Portico and the integration must stay out of the way
     */
    public static Optional<PorticoEnvironment> from(Map<String, String> environment) {
        String token = environment.get(BackendContract.TOKEN);
        if (token == null || token.isEmpty()) {
            return Optional.empty();
        }
        String pathBase = environment.get(BackendContract.PATH_BASE);
        return Optional.of(new PorticoEnvironment(token,
                pathBase == null ? null : normalizePathBase(pathBase),
                parsePid(environment.get(BackendContract.PARENT_PID))));
    }

    /** {@code "/"} and {@code ""} both mean the root app, whose Servlet context path is {@code ""}. */
    public static String normalizePathBase(String pathBase) {
        String trimmed = pathBase.trim();
        return trimmed.equals("/") ? "" : trimmed;
    }

    private static OptionalLong parsePid(String value) {
        if (value == null || value.isBlank()) {
            return OptionalLong.empty();
        }
        try {
            long pid = Long.parseLong(value.trim());
            if (pid > 0) {
                return OptionalLong.of(pid);
            }
        } catch (NumberFormatException e) {
            // fall through: a bad pid must not stop the app from serving
        }
        LOG.warning(() -> "Ignoring " + BackendContract.PARENT_PID + "=" + value + ": not a process id");
        return OptionalLong.empty();
    }

    @Override
    public String toString() {
        // Never print the token.
        return "PorticoEnvironment[pathBase=" + pathBase + ", parentPid=" + parentPid + "]";
    }
}
