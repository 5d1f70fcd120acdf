package dev.portico.arquillian;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** Client-side helpers of the Arquillian tests. */
final class Http {

    private Http() {
    }

    static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** {@code base} is the deployment's URL (ends with its context path and '/'). */
    static URI uri(URL base, String relative) {
        return URI.create(base.toExternalForm()).resolve(relative);
    }

    static HttpResponse<String> get(HttpClient client, URI uri) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    static Map<String, String> fields(String body) {
        Map<String, String> map = new HashMap<>();
        for (String line : body.split("\r?\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                map.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return map;
    }

    /**
     * One HTTP/1.1 request over a plain socket, so that the Host header is what the test says
     * (java.net.http does not let a caller set it). Returns the status line and body.
     */
    static String[] raw(String host, int port, String hostHeader, String path) throws IOException {
        try (Socket socket = new Socket(host, port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + hostHeader + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            String text = all.toString(StandardCharsets.ISO_8859_1);
            int headEnd = text.indexOf("\r\n\r\n");
            String statusLine = text.substring(0, text.indexOf("\r\n"));
            return new String[] {statusLine, headEnd < 0 ? "" : text.substring(headEnd + 4)};
        }
    }
}
