package dev.portico.outofprocess.forward;

import java.time.Duration;

import org.eclipse.jetty.client.Connection;
import org.eclipse.jetty.client.Destination;
import org.eclipse.jetty.client.DuplexConnectionPool;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.IdleTimeout;
import org.eclipse.jetty.util.IO;

/**
 * The connections to one backend, never lending one that has been idle for longer than
 * backendIdleTimeout. A backend closes an idle keep-alive connection on its own clock (Node and
 * uvicorn after 5 s, gunicorn after 2 s); a request written to a connection at the moment the
 * backend closes it is never read, and one that may not be sent again (a POST) is lost. So the
 * forwarder gives a connection up well before any backend would: one idle for too long is closed
 * when it would be lent, and the request takes the next fresh one, or a new connection (on
 * loopback, a connect costs less than a lost request).
 */
final class FreshConnectionPool extends DuplexConnectionPool {

    private final long maxIdleMillis;

    FreshConnectionPool(Destination destination, Duration maxIdle) {
        super(destination, destination.getHttpClient().getMaxConnectionsPerDestination());
        this.maxIdleMillis = maxIdle.toMillis();
    }

    /** The first pooled connection still fresh; the stale ones met on the way are closed. */
    @Override
    protected Connection activate() {
        Connection connection = super.activate();
        while (connection != null && stale(connection)) {
            remove(connection);
            IO.close(connection);
            connection = super.activate();
        }
        return connection;
    }

    private boolean stale(Connection connection) {
        return connection instanceof AbstractConnection pooled && pooled.getEndPoint() instanceof IdleTimeout endPoint
                && endPoint.getIdleFor() > maxIdleMillis;
    }
}
