import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Drives a real headless Chromium over the DevTools protocol through what a newcomer does with
 * Portico Express's bundled sample: the home page (the status page, each app a link), the
 * out-of-process sample's welcome page (model and pid, the live SSE counter, a WebSocket echo,
 * "crash the process" and the new pid after Portico's restart) and the in-process one; takes the
 * screenshots docs/express.md shows. Run by welcome-check.sh, which starts Express and Chromium.
 *
 * <pre>java WelcomePageCheck.java DEVTOOLS_PORT EXPRESS_URL EXPRESS_PID OUTPUT_DIR</pre>
 *
 * Exits 1, saying which step failed, if the page does not behave.
 */
public final class WelcomePageCheck {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Duration STEP = Duration.ofSeconds(90);

    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<String>> pending = new ConcurrentHashMap<>();

    private WelcomePageCheck(WebSocket socket) {
        this.socket = socket;
    }

    public static void main(String[] args) throws Exception {
        int devtools = Integer.parseInt(args[0]);
        String express = args[1].endsWith("/") ? args[1] : args[1] + "/";
        long expressPid = Long.parseLong(args[2]);
        Path out = Path.of(args[3]);

        WelcomePageCheck page = open(devtools, "about:blank");
        page.call("Emulation.setDeviceMetricsOverride",
                "{\"width\":1000,\"height\":860,\"deviceScaleFactor\":1,\"mobile\":false}");

        // 1. the home page: the valve's status page, every app a link
        page.navigate(express);
        page.await("the home page lists both samples as links",
                "document.querySelector('a[href=\"/outproc/\"]') !== null && document.querySelector('a[href=\"/inproc/\"]') !== null");
        step("home page: links to /inproc/ and /outproc/, state " + page.eval(
                "[...document.querySelectorAll('tr.app td:nth-child(3)')].map(td => td.innerText.split('\\n')[0]).join(', ')"));

        // 2. the out-of-process sample's welcome page
        page.navigate(express + "outproc/");
        page.await("the welcome page says who served it", "location.pathname === '/outproc/' && /^\\d+$/.test(document.getElementById('pid')?.textContent || '')");
        String model = page.eval("document.getElementById('who').textContent");
        long pid = Long.parseLong(page.eval("document.getElementById('pid').textContent"));
        require(model.startsWith("out-of-process"), "outproc is served out-of-process: " + model);
        require(pid != expressPid, "outproc's pid " + pid + " is not Express's own " + expressPid);
        step("outproc served " + model);

        page.await("the SSE counter counts to 3", "Number(document.getElementById('sse').textContent) >= 3");
        step("SSE counter live: " + page.eval("document.getElementById('sse').textContent"));

        page.await("the WebSocket connects", "document.getElementById('wsState').textContent === 'connected'");
        page.run("document.getElementById('echoText').value = 'hello from Chromium';"
                + " document.querySelector('#echoForm button').click();");
        page.await("the WebSocket echo answers", "[...document.querySelectorAll('#echoes li')]"
                + ".some(li => li.textContent === 'echo: hello from Chromium')");
        step("WebSocket echo: " + page.eval("document.querySelector('#echoes li').textContent"));

        page.run("document.getElementById('crash').click();");
        page.await("a new pid answers after the crash", "/new pid \\d+/.test(document.getElementById('crashState').textContent)");
        String crash = page.eval("document.getElementById('crashState').textContent");
        long newPid = Long.parseLong(page.eval("document.getElementById('pid').textContent"));
        require(newPid != pid, "the pid changed: " + crash);
        require(ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true), "the crashed process " + pid + " is gone");
        step("crash: " + crash);

        page.await("the SSE counter counts again from the new process",
                "document.getElementById('sseState').textContent === '(connected)' && Number(document.getElementById('sse').textContent) >= 2");
        page.run("window.scrollTo(0, 0);");
        page.screenshot(out.resolve("express-welcome.png"));
        step("screenshot " + out.resolve("express-welcome.png"));

        // 3. the in-process copy: Express's own JVM, no crash button
        page.navigate(express + "inproc/");
        page.await("the in-process welcome page says who served it", "location.pathname === '/inproc/' && /^\\d+$/.test(document.getElementById('pid')?.textContent || '')");
        long inPid = Long.parseLong(page.eval("document.getElementById('pid').textContent"));
        require(inPid == expressPid, "inproc runs in Express's JVM " + expressPid + ", not " + inPid);
        require("true".equals(page.eval("String(document.getElementById('crashSection').hidden)")), "no crash button in-process");
        page.await("the in-process SSE counter counts", "Number(document.getElementById('sse').textContent) >= 2");
        step("inproc served " + page.eval("document.getElementById('who').textContent") + ", no crash button");

        // 4. the home page again, now with both apps running and their figures
        page.navigate(express);
        page.await("the home page shows the restarted process", "location.pathname === '/' && document.body.textContent.includes('pid " + newPid + "')");
        page.call("Emulation.setDeviceMetricsOverride",
                "{\"width\":1200,\"height\":420,\"deviceScaleFactor\":1,\"mobile\":false}");
        page.screenshot(out.resolve("express-home.png"));
        step("screenshot " + out.resolve("express-home.png"));
        page.socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
        System.out.println("welcome page check: OK");
    }

    private static void step(String what) {
        System.out.println("  ok  " + what);
    }

    private static void require(boolean condition, String what) {
        if (!condition) {
            System.out.println("FAILED: " + what);
            System.exit(1);
        }
    }

    /** A new tab (PUT /json/new, as current Chromium wants it) and a connection to its DevTools socket. */
    private static WelcomePageCheck open(int devtools, String url) throws Exception {
        HttpResponse<String> created = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + devtools + "/json/new?" + url)).PUT(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        String debugger = field(created.body(), "webSocketDebuggerUrl");
        WelcomePageCheck[] check = new WelcomePageCheck[1];
        WebSocket socket = HTTP.newWebSocketBuilder().buildAsync(URI.create(debugger), new WebSocket.Listener() {
            private final StringBuilder message = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                message.append(data);
                if (last) {
                    check[0].received(message.toString());
                    message.setLength(0);
                }
                webSocket.request(1);
                return null;
            }
        }).get(10, TimeUnit.SECONDS);
        check[0] = new WelcomePageCheck(socket);
        return check[0];
    }

    private void received(String message) {
        Matcher id = Pattern.compile("^\\{\"id\":(\\d+),").matcher(message);
        if (id.find()) {
            CompletableFuture<String> answer = pending.remove(Integer.parseInt(id.group(1)));
            if (answer != null) {
                answer.complete(message);
            }
        }
    }

    private String call(String method, String params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<String> answer = new CompletableFuture<>();
        pending.put(id, answer);
        socket.sendText("{\"id\":" + id + ",\"method\":\"" + method + "\",\"params\":" + params + "}", true)
                .get(10, TimeUnit.SECONDS);
        String result = answer.get(30, TimeUnit.SECONDS);
        if (result.contains("\"error\":{")) {
            throw new IllegalStateException(method + ": " + result);
        }
        return result;
    }

    private void navigate(String url) throws Exception {
        call("Page.navigate", "{\"url\":" + quote(url) + "}");
    }

    /** The expression's value as a string. */
    private String eval(String expression) throws Exception {
        return unquote(field(run("String(" + expression + ")"), "value"));
    }

    /** Runs script in the page (statements, as in the console); fails when it throws. */
    private String run(String script) throws Exception {
        String result = call("Runtime.evaluate", "{\"expression\":" + quote(script) + ",\"returnByValue\":true}");
        if (result.contains("\"exceptionDetails\"")) {
            throw new IllegalStateException("the page threw on " + script + ": " + result);
        }
        return result;
    }

    private void await(String what, String condition) throws Exception {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (System.nanoTime() < deadline) {
            if ("true".equals(eval("(() => { try { return " + condition + "; } catch (e) { return false; } })()"))) {
                return;
            }
            Thread.sleep(200);
        }
        require(false, what + " (within " + STEP.toSeconds() + " s); the page says: "
                + eval("document.body.innerText.slice(0, 1500)"));
    }

    private void screenshot(Path file) throws Exception {
        String result = call("Page.captureScreenshot", "{\"format\":\"png\",\"captureBeyondViewport\":false}");
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, Base64.getDecoder().decode(field(result, "data")));
    }

    /** The raw (still escaped) text of a string field; a scan, not a regex: a screenshot is megabytes of base64. */
    private static String field(String json, String name) {
        int at = json.indexOf("\"" + name + "\":");
        if (at < 0) {
            throw new IllegalStateException("no " + name + " in " + json.substring(0, Math.min(2000, json.length())));
        }
        int start = json.indexOf('"', at + name.length() + 3) + 1;
        int end = start;
        while (json.charAt(end) != '"') {
            end += json.charAt(end) == '\\' ? 2 : 1;
        }
        return json.substring(start, end);
    }

    private static String unquote(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\\' || i + 1 == text.length()) {
                out.append(c);
                continue;
            }
            char next = text.charAt(++i);
            switch (next) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'u' -> {
                    out.append((char) Integer.parseInt(text.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> out.append(next);
            }
        }
        return out.toString();
    }

    private static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> out.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return out.append('"').toString();
    }
}
