package dev.portico.arquillian.app;

import java.io.IOException;

import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.MultipartConfig;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.Part;

/** Lists the parts of a multipart request: name=size:filename; a file part's bytes are summed. */
@WebServlet("/upload")
@MultipartConfig(fileSizeThreshold = 1024, maxFileSize = 1_000_000)
public class UploadServlet extends HttpServlet {

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException, ServletException {
        StringBuilder answer = new StringBuilder();
        for (Part part : request.getParts()) {
            long sum = 0;
            try (var in = part.getInputStream()) {
                int b;
                while ((b = in.read()) != -1) {
                    sum += b;
                }
            }
            answer.append(part.getName()).append('=').append(part.getSize()).append(':')
                    .append(part.getSubmittedFileName()).append(':').append(sum).append(';');
        }
        answer.append("field=").append(request.getParameter("field"));
        response.setContentType("text/plain");
        response.getWriter().print(answer);
    }
}
