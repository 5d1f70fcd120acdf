package dev.portico.testing;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Concurrent clients for the load tests, and the checks their answers get. */
public final class Load {

    private Load() {
    }

    /** One client's loop; its number tells the clients apart. */
    public interface ClientLoop {
        void run(int client) throws Exception;
    }

    /** Runs {@code clients} loops at once and waits for all (bounded): a failure of one fails the test. */
    public static void concurrently(int clients, ClientLoop loop) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                done.add(threads.submit(() -> {
                    loop.run(client);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(170, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    /** True when {@code body} is what the test backend's /download sends: {@code length} bytes, byte i = i % 251. */
    public static boolean isPattern(byte[] body, int length) {
        if (body.length != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if ((body[i] & 0xFF) != i % 251) {
                return false;
            }
        }
        return true;
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
