package dev.portico.integration.testapp;

import dev.portico.integration.PorticoIntegration;

import jakarta.servlet.ServletContainerInitializer;
import jakarta.servlet.ServletContext;

import java.util.Map;
import java.util.Set;

/**
 * Registers the integration as it would run behind Portico, with a known token and a shutdown
 * action that does not end the test JVM. Travels inside the test WAR.
 */
public class TestPorticoInitializer implements ServletContainerInitializer {

    public static final String TOKEN = "test-pairing-token-0123456789";

    @Override
    public void onStartup(Set<Class<?>> classes, ServletContext context) {
        new PorticoIntegration(Map.of(
                "PORTICO_TOKEN", TOKEN,
                "PORTICO_PATH_BASE", context.getContextPath()),
                ShutdownRecorder.action()).onStartup(classes, context);
    }
}
