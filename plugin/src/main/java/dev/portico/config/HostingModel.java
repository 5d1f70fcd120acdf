package dev.portico.config;

import java.util.Locale;

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

    /** Parses the attribute value the way ANCM does: case-insensitive. Returns null when unknown. */
    static HostingModel parse(String value) {
        String wanted = value.trim().toLowerCase(Locale.ROOT);
        for (HostingModel model : values()) {
            if (model.xmlName.toLowerCase(Locale.ROOT).equals(wanted)) {
                return model;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return xmlName;
    }
}
