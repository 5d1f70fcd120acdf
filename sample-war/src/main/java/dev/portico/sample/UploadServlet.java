package dev.portico.sample;

import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.MultipartConfig;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.Part;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Multipart POST: each part's name, file name, size and SHA-256. Parts over 1 MB go to disk. */
@WebServlet("/upload")
@MultipartConfig(fileSizeThreshold = 1024 * 1024)
public class UploadServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response)
            throws IOException, ServletException {
        List<Map<String, Object>> parts = new ArrayList<>();
        for (Part part : request.getParts()) {
            Digests digests;
            try (InputStream in = part.getInputStream()) {
                digests = Digests.of(in);
            }
            Map<String, Object> description = new LinkedHashMap<>();
            description.put("name", part.getName());
            description.put("filename", part.getSubmittedFileName());
            description.put("size", digests.length());
            description.put("sha256", digests.sha256());
            parts.add(description);
            part.delete();
        }
        Json.send(response, Map.of("parts", parts));
    }
}
