package dev.portico.hosting;

import dev.portico.config.AppConfig;

/** Turns a valid configuration into a running app of the right hosting model. */
@FunctionalInterface
public interface AppFactory {

    HostedApp create(AppSource source, AppConfig config) throws Exception;
}
