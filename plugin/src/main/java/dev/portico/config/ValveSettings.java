package dev.portico.config;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * The values of the valve's attributes (those of the {@link Attribute} table whose scope is the
 * valve): the valve's own settings, and for an app attribute the default of every app of the
 * Host, which an app's {@code portico.xml} overrides.
 */
public final class ValveSettings {

    /** Words a refused value: the valve's message names the attribute, the value and what is accepted. */
    @FunctionalInterface
    public interface BadValue {
        String message(String attribute, String value, String reason);
    }

    private final Map<Attribute, Object> values = new EnumMap<>(Attribute.class);
    private final BadValue badValue;

    public ValveSettings(BadValue badValue) {
        this.badValue = badValue;
        for (Attribute attribute : Attribute.values()) {
            if (attribute.scope().onValve()) {
                values.put(attribute, attribute.defaultValue());
            }
        }
    }

    /**
     * Sets the attribute from its text as written in server.xml; null or blank restores the default.
     *
     * @return false when the valve has no attribute of that name
     * @throws IllegalArgumentException naming the attribute, the value and what is accepted
     */
    public boolean set(String name, String text) {
        Attribute attribute = Attribute.named(name);
        if (attribute == null || !attribute.scope().onValve()) {
            return false;
        }
        try {
            Object value = attribute.parse(text);
            values.put(attribute, value == null ? attribute.defaultValue() : value);
        } catch (IllegalArgumentException e) {
            // the reason is in the message; the parser's own stack would only lengthen the log
            throw new IllegalArgumentException(badValue.message(name, text, e.getMessage()));
        }
        return true;
    }

    /** The value of a valve attribute, of its type's Java type. */
    @SuppressWarnings("unchecked")
    public <T> T get(Attribute attribute) {
        return (T) values.get(attribute);
    }

    /** The value as the valve's getter and its MBean show it; null when the valve has no such attribute. */
    public Object shown(String name) {
        Attribute attribute = Attribute.named(name);
        return attribute == null || !attribute.scope().onValve() ? null : attribute.type().jmxValue(values.get(attribute));
    }

    /**
     * Checks what no single attribute can: the values that must go together.
     *
     * @throws IllegalArgumentException naming the attribute, the value and what is accepted
     */
    public void checkTogether() {
        Duration max = get(Attribute.BACKOFF_MAX_DELAY_MS);
        String conflict = PoolConfig.backoffConflict(get(Attribute.BACKOFF_INITIAL_DELAY_MS), max);
        if (conflict != null) {
            throw new IllegalArgumentException(badValue.message(Attribute.BACKOFF_MAX_DELAY_MS.xmlName(),
                    Long.toString(max.toMillis()), conflict));
        }
    }
}
