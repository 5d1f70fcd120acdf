package dev.portico.config;

/** Where a hosted app runs: inside the Tomcat JVM, or as a child process behind a forwarder. */
public enum HostingModel {
    IN_PROCESS("inProcess"),
    OUT_OF_PROCESS("outOfProcess");

    private final String xmlName;

    HostingModel(String xmlName) {
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
