package dev.portico.outofprocess;

import java.security.Principal;

import org.apache.catalina.Host;
import org.apache.catalina.Realm;
import org.apache.catalina.Wrapper;
import org.apache.catalina.realm.RealmBase;

/**
 * Lets a forwarding Context authenticate against the realm the administrator configured for
 * the front Host (or its Engine), without taking over that realm's lifecycle: the users an app
 * sees are the users of the server.xml realm, and forwardPrincipal passes them on.
 */
final class FrontRealm extends RealmBase {

    private final Host frontHost;

    FrontRealm(Host frontHost) {
        this.frontHost = frontHost;
    }

    private Realm delegate() {
        return frontHost.getRealm();
    }

    @Override
    public Principal authenticate(String username, String credentials) {
        Realm realm = delegate();
        return realm == null ? null : realm.authenticate(username, credentials);
    }

    @Override
    public boolean hasRole(Wrapper wrapper, Principal principal, String role) {
        Realm realm = delegate();
        return realm != null && realm.hasRole(null, principal, role);
    }

    @Override
    protected String getPassword(String username) {
        return null;
    }

    @Override
    protected Principal getPrincipal(String username) {
        return null;
    }
}
