package dev.portico.config;

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

    @Override
    public String toString() {
        return xmlName;
    }
}
