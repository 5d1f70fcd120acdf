package dev.portico.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.CookieHandler;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The tests' ordinary client of one server: {@link HttpClient}, HTTP/1.1, redirects not followed,
 * a timeout on every request, failures as unchecked exceptions.
 */
public final class HttpTestClient {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private final String base;
    private final Duration requestTimeout;
    private final HttpClient client;

    public HttpTestClient(URI baseUri) {
        this(baseUri, DEFAULT_TIMEOUT);
    }

    public HttpTestClient(URI baseUri, Duration requestTimeout) {
        this(baseUri, requestTimeout, null);
    }

    private HttpTestClient(URI baseUri, Duration requestTimeout, CookieHandler cookies) {
        String text = baseUri.toString();
        this.base = text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
        this.requestTimeout = requestTimeout;
        HttpClient.Builder builder = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER);
        if (cookies != null) {
            builder.cookieHandler(cookies);
        }
        this.client = builder.build();
    }

    /** A client of the same server that keeps the cookies it is given, as a browser does (a session, say). */
    public HttpTestClient withCookies() {
        return new HttpTestClient(URI.create(base), requestTimeout, new CookieManager());
    }

    /** {@code pathAndQuery} on this server, exactly as written (not normalized). */
    public URI uri(String pathAndQuery) {
        return URI.create(base + (pathAndQuery.startsWith("/") ? "" : "/") + pathAndQuery);
    }

    public HttpClient client() {
        return client;
    }

    /** A request builder for a path of this server, with this client's timeout. */
    public HttpRequest.Builder request(String pathAndQuery) {
        return HttpRequest.newBuilder(uri(pathAndQuery)).timeout(requestTimeout);
    }

    /** GET, with headers given as name, value, name, value... */
    public HttpResponse<String> get(String pathAndQuery, String... headers) {
        HttpRequest.Builder builder = request(pathAndQuery).GET();
        if (headers.length > 0) {
            builder.headers(headers);
        }
        return send(builder.build());
    }

    /** Sends the request; the body is decoded with the charset the response names (UTF-8 if none). */
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
        return Json.tree(response.body());
    }

    /** At most 2,000 characters of a text, for failure messages. */
    public static String abbreviate(String text) {
        return text == null || text.length() <= 2000 ? text : text.substring(0, 2000) + "…";
    }
}
