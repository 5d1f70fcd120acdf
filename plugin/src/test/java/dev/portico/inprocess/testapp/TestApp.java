package dev.portico.inprocess.testapp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import javax.naming.InitialContext;
import javax.naming.NamingException;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.Part;
import jakarta.servlet.http.WebConnection;
import jakarta.websocket.DeploymentException;
import jakarta.websocket.OnMessage;
import jakarta.websocket.server.ServerContainer;
import jakarta.websocket.server.ServerEndpoint;

/**
 * A small web application for the in-process tests. Its classes come from the test classpath
 * (the webapp class loader's parent); {@link #write} lays out an exploded WAR whose web.xml
 * names them, so Tomcat deploys it as it would any WAR.
 */
public final class TestApp {

    /** Context life events, "init /path" / "destroy /path", in order (the classes are shared by all apps). */
    public static final ConcurrentLinkedQueue<String> EVENTS = new ConcurrentLinkedQueue<>();
    public static final AtomicInteger SLOW_IN_FLIGHT = new AtomicInteger();

    private TestApp() {
    }

    public static Path write(Path dir, String extraWebXml) throws IOException {
        Files.createDirectories(dir.resolve("WEB-INF"));
        Files.createDirectories(dir.resolve("META-INF"));
        // the test classpath is large; what matters here is the WAR itself
        Files.writeString(dir.resolve("META-INF/context.xml"), "<Context><JarScanner scanClassPath=\"false\"/></Context>\n");
        Files.writeString(dir.resolve("hello.jsp"), "<%@ page contentType=\"text/plain;charset=UTF-8\" %>"
                + "jsp <%= request.getContextPath() %> <%= 6 * 7 %>");
        Files.writeString(dir.resolve("static.txt"), "static file");
        String p = TestApp.class.getName() + "$";
        StringBuilder xml = new StringBuilder("""
                <?xml version="1.0" encoding="UTF-8"?>
                <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.1" metadata-complete="true">
                """);
        xml.append("<listener><listener-class>").append(p).append("Life</listener-class></listener>\n");
        xml.append("<filter><filter-name>mark</filter-name><filter-class>").append(p)
                .append("Mark</filter-class><async-supported>true</async-supported></filter>\n")
                .append("<filter-mapping><filter-name>mark</filter-name><url-pattern>/*</url-pattern></filter-mapping>\n");
        servlet(xml, p, "Info", "/info/*", "");
        servlet(xml, p, "Counter", "/session", "");
        servlet(xml, p, "Forward", "/forward", "");
        servlet(xml, p, "Include", "/include", "");
        servlet(xml, p, "Boom", "/boom", "");
        servlet(xml, p, "Error", "/error", "");
        servlet(xml, p, "Upload", "/upload", "<multipart-config><max-file-size>1048576</max-file-size></multipart-config>");
        servlet(xml, p, "Async", "/async", "<async-supported>true</async-supported>");
        servlet(xml, p, "NonBlockingEcho", "/nbecho", "<async-supported>true</async-supported>");
        servlet(xml, p, "Upgrade", "/upgrade", "");
        servlet(xml, p, "Slow", "/slow", "");
        servlet(xml, p, "Print", "/print", "");
        servlet(xml, p, "Visible", "/visible", "");
        xml.append("<error-page><error-code>404</error-code><location>/error</location></error-page>\n");
        xml.append("<error-page><exception-type>java.lang.IllegalStateException</exception-type><location>/error</location></error-page>\n");
        xml.append(extraWebXml).append("</web-app>\n");
        Files.writeString(dir.resolve("WEB-INF/web.xml"), xml);
        return dir;
    }

    private static void servlet(StringBuilder xml, String prefix, String name, String pattern, String extra) {
        xml.append("<servlet><servlet-name>").append(name).append("</servlet-name><servlet-class>").append(prefix)
                .append(name).append("</servlet-class>").append(extra).append("</servlet>\n")
                .append("<servlet-mapping><servlet-name>").append(name).append("</servlet-name><url-pattern>")
                .append(pattern).append("</url-pattern></servlet-mapping>\n");
    }

    private static void text(HttpServletResponse resp, String body) throws IOException {
        resp.setContentType("text/plain;charset=UTF-8");
        resp.getWriter().print(body);
    }

    public static class Life implements ServletContextListener {
        @Override
        public void contextInitialized(ServletContextEvent event) {
            EVENTS.add("init " + event.getServletContext().getContextPath());
            ServerContainer ws = (ServerContainer) event.getServletContext()
                    .getAttribute(ServerContainer.class.getName());
            try {
                ws.addEndpoint(Echo.class);
            } catch (DeploymentException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void contextDestroyed(ServletContextEvent event) {
            EVENTS.add("destroy " + event.getServletContext().getContextPath());
        }
    }

    public static class Failing implements ServletContextListener {
        @Override
        public void contextInitialized(ServletContextEvent event) {
            throw new IllegalStateException("boom from the listener");
        }
    }

    @ServerEndpoint("/ws")
    public static class Echo {
        @OnMessage
        public String echo(String message) {
            return "echo:" + message;
        }
    }

    public static class Mark implements Filter {
        @Override
        public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
                throws IOException, ServletException {
            ((HttpServletResponse) response).setHeader("X-Filtered", "yes");
            request.setAttribute("filtered", Boolean.TRUE);
            chain.doFilter(request, response);
        }
    }

    public static class Info extends HttpServlet {
        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            String jndi;
            try {
                jndi = String.valueOf(new InitialContext().lookup("java:comp/env/GREETING"));
            } catch (NamingException e) {
                jndi = "none";
            }
            text(resp, "contextPath=" + req.getContextPath() + "\nrequestURI=" + req.getRequestURI()
                    + "\nservletPath=" + req.getServletPath() + "\npathInfo=" + req.getPathInfo()
                    + "\ndispatcher=" + req.getDispatcherType() + "\nfiltered=" + req.getAttribute("filtered")
                    + "\nhostingModel=" + getServletContext().getInitParameter("portico.hostingModel")
                    + "\ninitGreeting=" + getServletContext().getInitParameter("GREETING")
                    + "\njndiGreeting=" + jndi + "\n");
        }
    }

    public static class Counter extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            HttpSession session = req.getSession();
            Integer count = (Integer) session.getAttribute("count");
            count = count == null ? 1 : count + 1;
            session.setAttribute("count", count);
            text(resp, "count=" + count);
        }
    }

    public static class Forward extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
            req.getRequestDispatcher("/info/forwarded").forward(req, resp);
        }
    }

    public static class Include extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
            resp.setContentType("text/plain;charset=UTF-8");
            resp.getWriter().print("before|");
            req.getRequestDispatcher("/hello.jsp").include(req, resp);
            resp.getWriter().print("|after");
        }
    }

    public static class Boom extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) {
            throw new IllegalStateException("boom");
        }
    }

    public static class Error extends HttpServlet {
        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            text(resp, "error page status=" + req.getAttribute("jakarta.servlet.error.status_code") + " uri="
                    + req.getAttribute("jakarta.servlet.error.request_uri"));
        }
    }

    public static class Upload extends HttpServlet {
        @Override
        protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
            StringBuilder out = new StringBuilder();
            for (Part part : req.getParts()) {
                out.append(part.getName()).append('=').append(part.getSize()).append(':')
                        .append(part.getSubmittedFileName()).append(';');
            }
            text(resp, out.toString());
        }
    }

    public static class Async extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            if (req.getDispatcherType() == DispatcherType.ASYNC) {
                text(resp, "dispatched " + req.getContextPath() + " " + req.getAttribute("filtered"));
                return;
            }
            AsyncContext async = req.startAsync();
            boolean dispatch = "dispatch".equals(req.getParameter("mode"));
            new Thread(() -> {
                try {
                    Thread.sleep(50);
                    if (dispatch) {
                        async.dispatch();
                    } else {
                        text((HttpServletResponse) async.getResponse(), "completed on " + Thread.currentThread().getName());
                        async.complete();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "app-async").start();
        }
    }

    public static class NonBlockingEcho extends HttpServlet {
        @Override
        protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            AsyncContext async = req.startAsync();
            ServletInputStream in = req.getInputStream();
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            in.setReadListener(new ReadListener() {
                private final byte[] buffer = new byte[8192];

                @Override
                public void onDataAvailable() throws IOException {
                    while (in.isReady() && !in.isFinished()) {
                        int n = in.read(buffer);
                        if (n > 0) {
                            body.write(buffer, 0, n);
                        }
                    }
                }

                @Override
                public void onAllDataRead() throws IOException {
                    byte[] bytes = body.toByteArray();
                    resp.setContentType("application/octet-stream");
                    ServletOutputStream out = resp.getOutputStream();
                    out.setWriteListener(new WriteListener() {
                        private int written;

                        @Override
                        public void onWritePossible() throws IOException {
                            while (out.isReady()) {
                                if (written == bytes.length) {
                                    async.complete();
                                    return;
                                }
                                int n = Math.min(4096, bytes.length - written);
                                out.write(bytes, written, n);
                                written += n;
                            }
                        }

                        @Override
                        public void onError(Throwable t) {
                            async.complete();
                        }
                    });
                }

                @Override
                public void onError(Throwable t) {
                    async.complete();
                }
            });
        }
    }

    public static class Upgrade extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
            if (!"echo".equalsIgnoreCase(req.getHeader("Upgrade"))) {
                resp.sendError(400);
                return;
            }
            resp.setStatus(101);
            resp.setHeader("Upgrade", "echo");
            resp.setHeader("Connection", "Upgrade");
            req.upgrade(UpperCaseLine.class);
        }
    }

    public static class UpperCaseLine implements HttpUpgradeHandler {
        @Override
        public void init(WebConnection connection) {
            try (InputStream in = connection.getInputStream(); OutputStream out = connection.getOutputStream()) {
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                int b;
                while ((b = in.read()) != -1 && b != '\n') {
                    line.write(b);
                }
                out.write((line.toString(StandardCharsets.UTF_8).toUpperCase(Locale.ROOT) + "\n")
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                // the client went away
            } finally {
                try {
                    connection.close();
                } catch (Exception e) {
                    // closed already
                }
            }
        }

        @Override
        public void destroy() {
        }
    }

    public static class Slow extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            SLOW_IN_FLIGHT.incrementAndGet();
            try {
                Thread.sleep(Long.parseLong(req.getParameter("ms")));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                SLOW_IN_FLIGHT.decrementAndGet();
            }
            text(resp, "slept");
        }
    }

    public static class Print extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            String marker = req.getParameter("marker");
            String lines = req.getParameter("lines");
            if (lines != null) {
                // a chatty app: numbered lines from the request thread
                for (int i = 1, n = Integer.parseInt(lines); i <= n; i++) {
                    System.out.println("line " + i + " " + marker);
                }
            }
            Thread thread = new Thread(() -> {
                System.out.println("out from app thread " + marker);
                System.err.println("err from app thread " + marker);
            }, "app-printer");
            thread.start();
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            System.out.flush();
            text(resp, "printed " + marker);
        }
    }

    /**
     * {@code ?class=X}: which loader the app's own class loader finds X with ("absent" when none);
     * with {@code &call=current}, what the static {@code current()} of X answers (CDI.current()).
     */
    public static class Visible extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            ClassLoader app = Thread.currentThread().getContextClassLoader();
            String answer;
            try {
                Class<?> type = Class.forName(req.getParameter("class"), false, app);
                ClassLoader loader = type.getClassLoader();
                answer = loader == app ? "webapp" : String.valueOf(loader == null ? "boot" : loader.getName());
                if ("current".equals(req.getParameter("call"))) {
                    try {
                        answer += " current=" + type.getMethod("current").invoke(null);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        answer += " current threw " + e.getCause();
                    } catch (LinkageError e) {
                        answer += " current: " + e;
                    } catch (ReflectiveOperationException e) {
                        answer += " current: " + e;
                    }
                }
            } catch (ClassNotFoundException e) {
                answer = "absent";
            }
            text(resp, answer);
        }
    }

    public static List<String> events() {
        return List.copyOf(EVENTS);
    }
}
