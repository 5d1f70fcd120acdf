package dev.portico.config;

import java.util.Locale;

/**
 * How the front reaches an out-of-process app's processes: a loopback TCP port, or a Unix domain
 * socket in a directory only the Tomcat user can enter (no other local user can connect, and no
 * TCP stack is crossed).
 */
public enum BackendTransport {
    TCP("tcp"),
    UNIX("unix");

    private final String xmlName;

    BackendTransport(String xmlName) {
        this.xmlName = xmlName;
    }

    public String xmlName() {
        return xmlName;
    }

    /** Case-insensitive; null when unknown. */
    public static BackendTransport parse(String value) {
        String wanted = value.trim().toLowerCase(Locale.ROOT);
        for (BackendTransport transport : values()) {
            if (transport.xmlName.equals(wanted)) {
                return transport;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return xmlName;
    }
}
