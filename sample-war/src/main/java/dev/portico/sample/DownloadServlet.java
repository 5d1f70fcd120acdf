package dev.portico.sample;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;

/**
 * {@code ?bytes=N}: N bytes, streamed, with Content-Length. The byte at offset {@code i} is
 * {@code i % 251}: a prime period, so a lost or repeated chunk of any power-of-two size shows.
 */
@WebServlet("/download")
public class DownloadServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    static final int PERIOD = 251;
    private static final byte[] PATTERN = pattern(PERIOD * 64);

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        long length = Parameters.bounded(request, "bytes", 1024, Long.MAX_VALUE);
        response.setContentType("application/octet-stream");
        response.setContentLengthLong(length);
        ServletOutputStream out = response.getOutputStream();
        // PATTERN's length is a multiple of the period, so every chunk starts at offset 0 mod 251.
        for (long remaining = length; remaining > 0; ) {
            int chunk = (int) Math.min(PATTERN.length, remaining);
            out.write(PATTERN, 0, chunk);
            remaining -= chunk;
        }
    }

    static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i % PERIOD);
        }
        return bytes;
    }
}
