package dev.portico.outofprocess.backend;

import java.time.Duration;
import java.util.Set;

/**
 * Whether an attempt that failed at the gateway is sent again, and after how long: the one
 * place that says, in the manner of Go's {@code http.Transport.shouldRetryRequest}.
 *
 * <p>A request goes again only when that is safe and can help: it has no body (part of one may
 * already have been read from the client and cannot be read again); nothing of the answer has
 * reached the client; the backend did not answer something malformed (it would only repeat) and
 * did not time out (requestTimeout is the client's patience, not the backend's); and either the
 * backend never saw it (the connection was refused: a dying process refuses, then its successor
 * answers) or its method is idempotent (RFC 9110, 9.2.2), so a backend that did see it is none
 * the worse. A refused request goes again twice; a seen one once, and once more if the process
 * it went to has died since (the first attempt may have met it in the moment before it was known
 * dead). A process that has exited, or refused, is waited for so that the next attempt goes to
 * its successor; a live one gets a moment to turn out dead.
 */
public final class RetryPolicy {

    /** How long a retried request waits for a dying process to be gone, so that its successor serves it. */
    public static final Duration EXIT_GRACE = Duration.ofSeconds(2);
    /** How long it waits when the process still looks alive (a keep-alive race, or a crash not yet reaped). */
    public static final Duration LIVE_GRACE = Duration.ofMillis(100);

    private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");

    /** How an attempt failed, as far as sending it again is concerned. */
    public enum Failure {
        /** The connection was refused (or the socket was missing): the backend never saw the request. */
        REFUSED,
        /** The connection failed or closed after the request went out, before a whole answer came. */
        BROKEN,
        /** The backend sent nothing for requestTimeout. */
        TIMED_OUT,
        /** The backend's answer was malformed (a bad status line, a bad Content-Length). */
        MALFORMED
    }

    /**
     * One failed attempt.
     *
     * @param method the request's method
     * @param hasBody the request has a body
     * @param failure how it failed
     * @param answerStarted part of the answer already reached the client (the response is committed)
     * @param seenRetries attempts already sent again after a failure the backend may have seen
     * @param refusedRetries attempts already sent again after a refused connection
     * @param backendAlive the process the attempt went to is still alive
     */
    public record Attempt(String method, boolean hasBody, Failure failure, boolean answerStarted, int seenRetries,
            int refusedRetries, boolean backendAlive) {
    }

    private RetryPolicy() {
    }

    /** @return how long to wait before the attempt goes again, or null when it does not go again */
    public static Duration retryAfter(Attempt attempt) {
        boolean refused = attempt.failure() == Failure.REFUSED;
        if (attempt.hasBody() || attempt.answerStarted() || attempt.failure() == Failure.TIMED_OUT
                || attempt.failure() == Failure.MALFORMED || !(refused || isIdempotent(attempt.method()))) {
            return null;
        }
        boolean allowed = refused ? attempt.refusedRetries() < 2
                : attempt.seenRetries() == 0 || attempt.seenRetries() == 1 && !attempt.backendAlive();
        if (!allowed) {
            return null;
        }
        return refused || !attempt.backendAlive() ? EXIT_GRACE : LIVE_GRACE;
    }

    /** RFC 9110, 9.2.2. */
    public static boolean isIdempotent(String method) {
        return IDEMPOTENT.contains(method);
    }
}
