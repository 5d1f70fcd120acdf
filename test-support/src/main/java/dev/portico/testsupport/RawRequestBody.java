package dev.portico.testsupport;

/**
 * A request body for {@link RawConnection#exchange} and how it goes on the wire: with
 * {@code Content-Length}, or chunked in chunks of {@code chunkSize} (0: not chunked); and whether the
 * request says {@code Expect: 100-continue}.
 */
public record RawRequestBody(byte[] bytes, int chunkSize, Expectation expectation) {

    /** What the client does about {@code Expect: 100-continue}. */
    public enum Expectation {
        /** No Expect header. */
        NONE,
        /** Sends the body only after the server's {@code 100 Continue}. */
        WAIT_FOR_CONTINUE,
        /** Says it, then sends the body at once (RFC 9110 lets a client stop waiting at any time). */
        SEND_AT_ONCE
    }

    public static RawRequestBody sized(byte[] bytes) {
        return new RawRequestBody(bytes, 0, Expectation.NONE);
    }

    public static RawRequestBody chunked(byte[] bytes, int chunkSize) {
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("chunk size " + chunkSize);
        }
        return new RawRequestBody(bytes, chunkSize, Expectation.NONE);
    }

    /** The same body, sent after {@code Expect: 100-continue} is answered. */
    public RawRequestBody expectingContinue() {
        return new RawRequestBody(bytes, chunkSize, Expectation.WAIT_FOR_CONTINUE);
    }

    /** The same body, announced with {@code Expect: 100-continue} but sent without waiting. */
    public RawRequestBody expectingContinueWithoutWaiting() {
        return new RawRequestBody(bytes, chunkSize, Expectation.SEND_AT_ONCE);
    }

    boolean isChunked() {
        return chunkSize > 0;
    }

    String framingHeader() {
        return isChunked() ? "Transfer-Encoding: chunked" : "Content-Length: " + bytes.length;
    }

    byte[] wire() {
        return isChunked() ? RawHttp.chunked(bytes, chunkSize) : bytes;
    }
}
