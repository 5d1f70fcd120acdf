package dev.portico.outofprocess.forward;

import java.io.IOException;
import java.nio.ByteBuffer;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;

import dev.portico.outofprocess.backend.Backends;
import dev.portico.outofprocess.backend.RetryPolicy;

/**
 * One attempt's backend response, relayed to the client: Jetty's events (on the selector thread
 * that read the bytes), each handed to the client through the exchange's gate; status and
 * headers once, each chunk to the {@link ResponseStreamer}, then the end — or the failure, to
 * {@link FailureAnswers}.
 */
final class ResponseRelay implements Response.Listener {

    /** Copies the backend's headers onto the client's response, as Jetty's proxy does (hop-by-hop ones left out). */
    @FunctionalInterface
    interface HeaderCopy {
        void copy(HttpServletRequest request, HttpServletResponse response, Response backendResponse);
    }

    private final Exchange exchange;
    private final Backends backends;
    private final FailureAnswers failures;
    private final HeaderCopy headers;

    ResponseRelay(Exchange exchange, Backends backends, FailureAnswers failures, HeaderCopy headers) {
        this.exchange = exchange;
        this.backends = backends;
        this.failures = failures;
        this.headers = headers;
    }

    @Override
    public void onHeaders(Response backendResponse) {
        backends.answered(exchange.attempts().backend(), backendResponse.getStatus());
        boolean open;
        try {
            open = exchange.gate().withClient((request, response) -> {
                response.setStatus(backendResponse.getStatus());
                headers.copy(request, response, backendResponse);
                exchange.streamer().begin(backendResponse, response, RetryPolicy.isIdempotent(request.getMethod()));
            });
        } catch (ClientGate.ClientGone e) {
            open = false;
        }
        if (!open) {
            backendResponse.abort(new IOException("the client's exchange is over"));
        }
    }

    @Override
    public void onContent(Response backendResponse, Content.Chunk chunk, Runnable demander) {
        ByteBuffer content = chunk.getByteBuffer();
        int length = content.remaining();
        byte[] buffer;
        int offset;
        if (content.hasArray()) {
            buffer = content.array();
            offset = content.arrayOffset() + content.position();
        } else {
            buffer = new byte[length];
            content.get(buffer);
            offset = 0;
        }
        chunk.retain();
        Callback callback = Callback.from(chunk::release, Callback.from(demander, backendResponse::abort));
        exchange.streamer().offer(buffer, offset, length, callback);
    }

    @Override
    public void onComplete(Result result) {
        ClientGate gate = exchange.gate();
        if (result.isSucceeded()) {
            gate.complete((request, response) -> exchange.streamer().sendWhole());
        } else if (gate.ifOpen((request, response) -> exchange.streamer().isWhole(), false)) {
            // The backend answered in full without reading the whole body (a 413, an early
            // 401) and closed, which fails Jetty's exchange: its answer is the answer, and the
            // client's connection cannot carry on.
            gate.complete((request, response) -> {
                if (!response.isCommitted()) {
                    response.setHeader("Connection", "close");
                }
            });
        } else {
            failures.backendFailed(exchange, result.getFailure());
        }
    }
}
