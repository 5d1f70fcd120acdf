package dev.portico.outofprocess.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.portico.outofprocess.backend.BackendAddress;

/**
 * A socket whose process died is either gone (ENOENT: Portico removes the file) or has nobody
 * listening (ECONNREFUSED): both must reach the forwarding servlet as the ConnectException that a
 * refused port is, so that the request is retried as one the backend never saw.
 */
class BackendClientUnixTest {

    @TempDir
    Path dir;
    private BackendClient client;

    @BeforeEach
    void start() throws Exception {
        client = new BackendClient("test-forward", 8, java.time.Duration.ofSeconds(30), java.time.Duration.ofSeconds(1));
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
    }

    private Throwable failureOf(BackendAddress address) {
        ExecutionException failed = assertThrows(ExecutionException.class,
                () -> client.get(address, "/x", "token", Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS));
        return failed.getCause();
    }

    @Test
    void aMissingSocketFileIsARefusedConnection() {
        Throwable failure = failureOf(BackendAddress.unix(dir.resolve("gone.sock")));
        assertInstanceOf(ConnectException.class, failure, String.valueOf(failure));
    }

    @Test
    void aSocketNobodyListensOnIsARefusedConnection() throws Exception {
        Path path = dir.resolve("closed.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
        }
        assertEquals(true, Files.exists(path), "closing a Unix server socket leaves its file");
        Throwable failure = failureOf(BackendAddress.unix(path));
        assertInstanceOf(ConnectException.class, failure, String.valueOf(failure));
    }
}
