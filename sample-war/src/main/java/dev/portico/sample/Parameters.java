package dev.portico.sample;

import jakarta.servlet.http.HttpServletRequest;

/** Numeric query parameters with a default and bounds, so no request can ask for the absurd. */
final class Parameters {

    private Parameters() {
    }

    static long bounded(HttpServletRequest request, String name, long defaultValue, long max) {
        String value = request.getParameter(name);
        if (value == null || value.isBlank()) {
            return defaultValue;
        }
        try {
            return Math.max(0, Math.min(max, Long.parseLong(value.trim())));
        } catch (NumberFormatException e) {
            return defaultValue;
        }
    }
}
