package dev.portico.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The real client of the tests: {@link HttpClient}, HTTP/1.1, 127.0.0.1 only. */
public final class HttpTestClient {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI baseUri;
    private final HttpClient client;

    HttpTestClient(URI baseUri) {
        this.baseUri = baseUri;
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    public URI uri(String pathAndQuery) {
        return baseUri.resolve(pathAndQuery);
    }

    /** A request builder for a path of this Tomcat, with the default timeout. */
    public HttpRequest.Builder request(String pathAndQuery) {
        return HttpRequest.newBuilder(uri(pathAndQuery)).timeout(DEFAULT_TIMEOUT);
    }

    /** GET, with headers given as name, value, name, value... */
    public HttpResponse<String> get(String pathAndQuery, String... headers) {
        HttpRequest.Builder builder = request(pathAndQuery).GET();
        if (headers.length > 0) {
            builder.headers(headers);
        }
        return send(builder.build());
    }

    public HttpResponse<String> send(HttpRequest request) {
        return send(request, HttpResponse.BodyHandlers.ofString());
    }

    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        try {
            return client.send(request, handler);
        } catch (IOException e) {
            throw new UncheckedIOException(request.method() + " " + request.uri() + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** GET that must answer 200 with JSON. */
    public JsonNode getJson(String pathAndQuery, String... headers) {
        HttpResponse<String> response = get(pathAndQuery, headers);
        if (response.statusCode() != 200) {
            throw new AssertionError("GET " + pathAndQuery + " answered " + response.statusCode()
                    + " instead of 200: " + abbreviate(response.body()));
        }
        return json(response.body());
    }

    public static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + abbreviate(text), e);
        }
    }

    public static String abbreviate(String text) {
        return text == null || text.length() <= 2000 ? text : text.substring(0, 2000) + "…";
    }
}
