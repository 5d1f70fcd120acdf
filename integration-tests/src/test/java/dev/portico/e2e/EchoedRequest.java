package dev.portico.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

import dev.portico.testsupport.Json;

/** What the Node backend's /echo saw: method, full path, query, headers (lower-case names). */
public record EchoedRequest(JsonNode json) {

    public static EchoedRequest parse(String body) {
        return new EchoedRequest(Json.tree(body));
    }

    public String method() {
        return json.path("method").asText();
    }

    public String path() {
        return json.path("path").asText();
    }

    public String query() {
        return json.path("query").asText();
    }

    public long bodyLength() {
        return json.path("bodyLength").asLong(-1);
    }

    public String bodySha256() {
        return json.path("bodySha256").asText();
    }

    /** Every value the backend received for a header, one per header line. */
    public List<String> headerValues(String name) {
        List<String> values = new ArrayList<>();
        for (JsonNode pair : json.path("rawHeaders")) {
            if (pair.get(0).asText().equalsIgnoreCase(name)) {
                values.add(pair.get(1).asText());
            }
        }
        return values;
    }

    /** The one value of a header that must arrive exactly once. */
    public String singleHeader(String name) {
        List<String> values = headerValues(name);
        assertEquals(1, values.size(), () -> "expected exactly one " + name + " header, got " + values
                + " in " + json.path("rawHeaders"));
        return values.get(0);
    }
}
