package dev.portico.integration;

import java.io.Serializable;
import java.security.Principal;

/** The front Tomcat's authenticated user, as forwarded in {@code X-Portico-Principal}. */
public record PorticoPrincipal(String name) implements Principal, Serializable {

    @Override
    public String getName() {
        return name;
    }
}
