package dev.portico.arquillian.app;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletRequestEvent;
import jakarta.servlet.ServletRequestListener;
import jakarta.servlet.annotation.WebListener;

/** Records the context's start and counts requests; its state lives in context attributes. */
@WebListener
public class AppListener implements ServletContextListener, ServletRequestListener {

    public static final String EVENTS = "dev.portico.arquillian.events";
    public static final String REQUESTS = "dev.portico.arquillian.requests";

    @Override
    public void contextInitialized(ServletContextEvent event) {
        List<String> events = new CopyOnWriteArrayList<>();
        events.add("contextInitialized " + event.getServletContext().getContextPath());
        event.getServletContext().setAttribute(EVENTS, events);
        event.getServletContext().setAttribute(REQUESTS, new AtomicInteger());
    }

    @Override
    public void requestInitialized(ServletRequestEvent event) {
        Object requests = event.getServletContext().getAttribute(REQUESTS);
        if (requests instanceof AtomicInteger count) {
            count.incrementAndGet();
        }
    }
}
