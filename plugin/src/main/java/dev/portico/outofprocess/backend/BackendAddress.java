package dev.portico.outofprocess.backend;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * Where one backend process listens: a loopback TCP port, or the path of a Unix domain socket
 * (transport="unix"). Exactly one of the two is set.
 *
 * @param port the loopback port, or -1 for a socket
 * @param socket the socket's path, or null for a port
 */
public record BackendAddress(int port, Path socket) {

    public static BackendAddress tcp(int port) {
        return new BackendAddress(port, null);
    }

    public static BackendAddress unix(Path socket) {
        return new BackendAddress(-1, socket);
    }

    public boolean isUnix() {
        return socket != null;
    }

    public SocketAddress socketAddress() {
        return isUnix() ? UnixDomainSocketAddress.of(socket) : new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /**
     * True when something accepts a connection there now: the readiness of a backend without a
     * readinessPath. A socket's connect never waits (it is refused, or there is no such file);
     * a port's is bounded by {@code timeoutMillis}.
     */
    public boolean accepts(int timeoutMillis) {
        if (isUnix()) {
            try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                return channel.connect(socketAddress());
            } catch (IOException e) {
                return false;
            }
        }
        try (java.net.Socket connection = new java.net.Socket()) {
            connection.connect(socketAddress(), timeoutMillis);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** As logs and pages show it: {@code 127.0.0.1:8123} or {@code unix:/path/to/socket}. */
    @Override
    public String toString() {
        return isUnix() ? "unix:" + socket : "127.0.0.1:" + port;
    }
}
