package dev.portico.outofprocess.backend;

import static dev.portico.outofprocess.backend.RetryPolicy.EXIT_GRACE;
import static dev.portico.outofprocess.backend.RetryPolicy.LIVE_GRACE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.portico.outofprocess.backend.RetryPolicy.Attempt;
import dev.portico.outofprocess.backend.RetryPolicy.Failure;

/** The retry rule as a table: every column of {@link Attempt} decides at least one row. */
class RetryPolicyTest {

    @ParameterizedTest(name = "{0} body={1} {2} started={3} seen={4} refused={5} alive={6} -> {7}")
    @CsvSource({
            // method, body, failure, answer started, seen retries, refused retries, alive, expected
            // refused: never seen, any method without a body, twice, waiting for the dying process
            "GET,    false, REFUSED,   false, 0, 0, true,  exit",
            "POST,   false, REFUSED,   false, 0, 0, true,  exit",
            "POST,   false, REFUSED,   false, 0, 1, false, exit",
            "POST,   false, REFUSED,   false, 0, 2, false, no",
            "PATCH,  true,  REFUSED,   false, 0, 0, false, no",
            // broken after it went out: idempotent methods only
            "GET,    false, BROKEN,    false, 0, 0, true,  live",
            "GET,    false, BROKEN,    false, 0, 0, false, exit",
            "HEAD,   false, BROKEN,    false, 0, 0, true,  live",
            "OPTIONS,false, BROKEN,    false, 0, 0, true,  live",
            "TRACE,  false, BROKEN,    false, 0, 0, true,  live",
            "PUT,    false, BROKEN,    false, 0, 0, true,  live",
            "DELETE, false, BROKEN,    false, 0, 0, true,  live",
            "POST,   false, BROKEN,    false, 0, 0, true,  no",
            "PATCH,  false, BROKEN,    false, 0, 0, false, no",
            // a second time only if the process it went to has died since
            "GET,    false, BROKEN,    false, 1, 0, false, exit",
            "GET,    false, BROKEN,    false, 1, 0, true,  no",
            "GET,    false, BROKEN,    false, 2, 0, false, no",
            // the retries of the two kinds are counted apart
            "GET,    false, BROKEN,    false, 0, 2, true,  live",
            "GET,    false, REFUSED,   false, 1, 0, true,  exit",
            // a body, a started answer, a timeout, a malformed answer: never
            "PUT,    true,  BROKEN,    false, 0, 0, true,  no",
            "GET,    true,  BROKEN,    false, 0, 0, false, no",
            "GET,    false, BROKEN,    true,  0, 0, false, no",
            "GET,    false, REFUSED,   true,  0, 0, false, no",
            "GET,    false, TIMED_OUT, false, 0, 0, true,  no",
            "GET,    false, MALFORMED, false, 0, 0, true,  no",
    })
    void decides(String method, boolean body, Failure failure, boolean started, int seen, int refused, boolean alive,
            String expected) {
        Duration wait = RetryPolicy.retryAfter(new Attempt(method, body, failure, started, seen, refused, alive));
        Duration want = switch (expected) {
            case "exit" -> EXIT_GRACE;
            case "live" -> LIVE_GRACE;
            default -> null;
        };
        assertEquals(want, wait);
    }
}
