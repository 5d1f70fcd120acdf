package dev.portico.frameworks.spring;

import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.boot.SpringApplication;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;
import org.springframework.web.servlet.view.RedirectView;

/** What a Spring Boot app sees of a request, and a redirect as Spring MVC writes one. */
@SpringBootApplication
@RestController
public class WhoAmIApplication {

    public static void main(String[] args) {
        SpringApplication.run(WhoAmIApplication.class, args);
    }

    /** Portico's pairing token (docs/backend-contract.md): only Portico may talk to this app. */
    @Bean
    public Filter porticoToken(@Value("${PORTICO_TOKEN}") String token) {
        return (request, response, chain) -> {
            if (token.equals(((HttpServletRequest) request).getHeader("X-Portico-Token"))) {
                chain.doFilter(request, response);
            } else {
                ((HttpServletResponse) response).sendError(400, "missing or wrong X-Portico-Token");
            }
        };
    }

    @GetMapping("/whoami")
    public Map<String, Object> whoami(HttpServletRequest request) {
        Map<String, Object> seen = new LinkedHashMap<>();
        seen.put("host", request.getServerName() + ":" + request.getServerPort());
        seen.put("scheme", request.getScheme());
        seen.put("client", request.getRemoteAddr());
        seen.put("url", ServletUriComponentsBuilder.fromCurrentRequest().toUriString());
        return seen;
    }

    /** {@code redirect:} with a context-relative path: Spring (and Tomcat) make it absolute from the request. */
    @GetMapping("/go")
    public RedirectView go() {
        return new RedirectView("/whoami", true);
    }
}
