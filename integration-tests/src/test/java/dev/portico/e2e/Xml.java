package dev.portico.e2e;

/** Attribute-value escaping for the XML the tests write. */
final class Xml {

    private Xml() {
    }

    static String escape(String value) {
        return value.replace("&", "&amp;").replace("\"", "&quot;")
                .replace("<", "&lt;").replace(">", "&gt;");
    }
}
