package dev.portico.sample;

import jakarta.servlet.ServletContext;

import javax.naming.InitialContext;
import javax.naming.NamingException;

/**
 * Where the sample reads configuration, in order: JNDI {@code java:comp/env}, context init
 * parameters, the process environment. In-process hosting can only reach the app through the first
 * two; an out-of-process app gets portico.xml's environmentVariables in the third.
 */
final class Settings {

    static final String HOSTING_MODEL = "portico.hostingModel";
    static final String ALLOW_CRASH = "PORTICO_SAMPLE_ALLOW_CRASH";
    /** Never shown: with it, anyone on the host could talk to the backend directly. */
    static final String TOKEN = "PORTICO_TOKEN";

    private Settings() {
    }

    static String lookup(ServletContext context, String name) {
        String value = jndi(name);
        if (value == null) {
            value = context.getInitParameter(name);
        }
        return value != null ? value : System.getenv(name);
    }

    /** {@code portico.hostingModel} from JNDI or an init parameter, else PORTICO_HOSTING_MODEL. */
    static String hostingModel(ServletContext context) {
        String value = jndi(HOSTING_MODEL);
        if (value == null) {
            value = context.getInitParameter(HOSTING_MODEL);
        }
        if (value == null) {
            value = System.getenv("PORTICO_HOSTING_MODEL");
        }
        return value != null ? value : "unknown";
    }

    private static String jndi(String name) {
        try {
            Object value = new InitialContext().lookup("java:comp/env/" + name);
            return value == null ? null : value.toString();
        } catch (NamingException | RuntimeException e) {
            // No naming in this container, or no such entry.
            return null;
        }
    }
}
