package dev.portico.express;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.portico.testsupport.Json;
import dev.portico.testsupport.Poll;

/**
 * The shaded jar, run as a user runs it: {@code java -jar target/portico-express.jar --port 0 ...}.
 */
class PorticoExpressIT {

    private static final Duration START = Duration.ofSeconds(60);
    private static final Duration STOP = Duration.ofSeconds(15);

    @Test
    void withoutAppsTheSampleIsHostedInBothModelsAndSigtermStopsEverything() throws Exception {
        try (ExpressProcess express = ExpressProcess.start("--port", "0")) {
            String url = express.awaitListening(START);
            String outLine = express.line(url + "outproc/");
            String inLine = express.line(url + "inproc/");
            assertNotNull(outLine, express.describe());
            assertNotNull(inLine, express.describe());
            assertTrue(outLine.contains("out-of-process"), outLine);
            assertTrue(inLine.contains("in-process"), inLine);
            // neither has had a request yet: each line says what the first one will do
            assertTrue(outLine.endsWith("(the process starts on the first request)"), outLine);
            assertTrue(inLine.endsWith("(starts on the first request, inside this JVM)"), inLine);

            HttpResponse<String> info = express.get("/outproc/info");
            assertEquals(200, info.statusCode(), info.body());
            assertEquals("outOfProcess", Json.field(info.body(), "hostingModel"), info.body());
            assertEquals("/outproc", Json.field(info.body(), "contextPath"), info.body());
            long backend = express.track(Long.parseLong(Json.field(info.body(), "pid")));
            assertNotEquals(express.pid(), backend, "the out-of-process sample runs in its own JVM");
            assertEquals(express.pid(), ProcessHandle.of(backend).flatMap(ProcessHandle::parent)
                    .map(ProcessHandle::pid).orElse(-1L), "... a child of Express");

            // in-process: inside the Express JVM
            HttpResponse<String> inproc = express.get("/inproc/");
            assertEquals(200, inproc.statusCode(), inproc.body());
            assertEquals("inProcess", Json.field(inproc.body(), "hostingModel"), inproc.body());
            assertEquals(Long.toString(express.pid()), Json.field(inproc.body(), "pid"),
                    "in-process means inside the Express JVM");

            // the home page is the valve's status page: each app a link, the out-of-process one with its pid
            HttpResponse<String> home = express.browse("/");
            assertEquals(200, home.statusCode(), home.body());
            assertTrue(home.body().contains("<a href=\"/inproc/\">/inproc</a>"), home.body());
            assertTrue(home.body().contains("<a href=\"/outproc/\">/outproc</a>"), home.body());
            assertTrue(home.body().contains("<td>pid " + backend + "</td>"), home.body());
            assertEquals("outproc", Json.field(express.get("/").body(), "name"), "a script gets JSON");
            // and each sample's root, in a browser, is its welcome page
            HttpResponse<String> welcome = express.browse("/outproc/");
            assertEquals(200, welcome.statusCode(), welcome.body());
            assertTrue(welcome.body().contains("<title>Portico sample</title>"), welcome.body());
            assertEquals(404, express.get("/nothing-here").statusCode());

            Path base = Path.of(express.stdout().replaceAll("(?s).*CATALINA_BASE (\\S+).*", "$1"));
            assertTrue(Files.isDirectory(base.resolve("apps/outproc/WEB-INF")), base.toString());

            assertEquals(0, express.terminate(STOP), express.describe());
            Poll.until(Duration.ofSeconds(5), "the WAR runner JVM " + backend + " is gone",
                    () -> ProcessHandle.of(backend).isEmpty());
            assertFalse(Files.exists(base), "the temporary CATALINA_BASE is deleted: " + base);
            assertTrue(express.stdout().endsWith("Portico Express stopped."), express.describe());
        }
    }

    @Test
    void hostsAProgramDirectoryOutOfProcess(@TempDir Path temp) throws Exception {
        Path app = Files.createDirectories(temp.resolve("hello-node"));
        Files.writeString(app.resolve("server.js"), """
                'use strict';
                // the backend contract (docs/backend-contract.md) in a few lines
                const http = require('node:http');
                const base = process.env.PORTICO_PATH_BASE || '';
                const server = http.createServer((req, res) => {
                  if (req.headers['x-portico-token'] !== process.env.PORTICO_TOKEN) {
                    res.writeHead(400); res.end('missing or invalid Portico pairing token'); return;
                  }
                  if (req.method === 'POST' && req.url === base + '/.portico/shutdown') {
                    res.writeHead(202); res.end(); server.close(() => process.exit(0)); return;
                  }
                  res.writeHead(200, {'Content-Type': 'application/json'});
                  res.end(JSON.stringify({pid: process.pid, url: req.url, pathBase: base,
                    forwardedFor: req.headers['x-forwarded-for'], greeting: process.env.GREETING}));
                });
                server.listen(Number(process.env.PORTICO_PORT), '127.0.0.1');
                process.on('SIGTERM', () => process.exit(0));
                """);
        Files.writeString(app.resolve("portico.xml"), """
                <portico processPath="node" arguments="server.js" shutdownTimeLimit="5">
                  <environmentVariables>
                    <environmentVariable name="GREETING" value="hello from express"/>
                  </environmentVariables>
                </portico>
                """);
        try (ExpressProcess express = ExpressProcess.start("--port", "0", app.toString())) {
            String url = express.awaitListening(START);
            String line = express.line(url + "hello-node/");
            assertNotNull(line, express.describe());
            assertTrue(line.contains("out-of-process (node)"), line);
            assertTrue(express.line("/inproc/") == null && express.line("/outproc/") == null,
                    "with an APP the sample is not hosted: " + express.describe());

            HttpResponse<String> response = express.get("/hello-node/some/path?q=1");
            assertEquals(200, response.statusCode(), response.body());
            assertEquals("/hello-node/some/path?q=1", Json.field(response.body(), "url"));
            assertEquals("/hello-node", Json.field(response.body(), "pathBase"));
            assertEquals("127.0.0.1", Json.field(response.body(), "forwardedFor"));
            assertEquals("hello from express", Json.field(response.body(), "greeting"));
            long backend = express.track(Long.parseLong(Json.field(response.body(), "pid")));

            assertEquals(0, express.terminate(STOP), express.describe());
            Poll.until(Duration.ofSeconds(5), "node backend " + backend + " is gone",
                    () -> ProcessHandle.of(backend).isEmpty());
        }
        // the app directory was linked, not consumed: it is still there, untouched
        assertTrue(Files.isRegularFile(app.resolve("server.js")));
        try (Stream<Path> files = Files.list(app)) {
            assertEquals(2, files.count(), "nothing written into the app directory");
        }
    }

    @Test
    void hooksGivenWithHooksObserveTheApps(@TempDir Path temp) throws Exception {
        Path hooks = Files.createDirectories(temp.resolve("hooks"));
        Files.copy(Path.of(System.getProperty("portico.exampleHook")), hooks.resolve("crash-log.jar"));
        Path app = Files.createDirectories(temp.resolve("fragile"));
        Files.writeString(app.resolve("server.js"), """
                'use strict';
                const http = require('node:http');
                http.createServer((req, res) => {
                  if (req.url.endsWith('/crash')) { console.log('about to fall over'); res.end('bye'); setTimeout(() => process.exit(7), 50); return; }
                  res.end(String(process.pid));
                }).listen(Number(process.env.PORTICO_PORT), '127.0.0.1');
                process.on('SIGTERM', () => process.exit(0));
                """);
        Files.writeString(app.resolve("portico.xml"), "<portico processPath=\"node\" arguments=\"server.js\"/>");
        try (ExpressProcess express = ExpressProcess.start("--port", "0", "--hooks", hooks.toString(), app.toString())) {
            express.awaitListening(START);
            long pid = express.track(Long.parseLong(express.get("/fragile/").body()));
            assertEquals("bye", express.get("/fragile/crash").body());
            Path crashes = hooks.resolve("crashes.log");
            Poll.until(Duration.ofSeconds(20), "the example hook's crashes.log",
                    () -> Files.exists(crashes) && read(crashes).contains("    about to fall over"));
            assertTrue(read(crashes).contains("crash app=fragile pid=" + pid + " exitCode=7"), read(crashes));
            assertTrue(express.stderr().contains("Portico lifecycle hooks: Weld SE container"), express.describe());
            assertEquals(0, express.terminate(STOP), express.describe());
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    @Test
    void badArgumentsExitWith2AndAUsageMessage(@TempDir Path temp) throws Exception {
        Path a = Files.createDirectories(temp.resolve("a/shop/WEB-INF"));
        Path b = Files.createDirectories(temp.resolve("b"));
        Files.writeString(b.resolve("shop.war"), "not really a war");
        Path notAnApp = Files.createDirectories(temp.resolve("plain"));
        String[][] bad = {
            {"--frobnicate"},
            {"--port", "eighty"},
            {"--port", "70000"},
            {"--port"},
            {temp.resolve("missing.war").toString()},
            {notAnApp.toString()},
            {a.getParent().toString(), b.resolve("shop.war").toString()},
        };
        for (String[] args : bad) {
            try (ExpressProcess express = ExpressProcess.start(args)) {
                int status = express.awaitExit(Duration.ofSeconds(20));
                String err = express.stderr();
                assertEquals(2, status, String.join(" ", args) + " -> " + express.describe());
                assertTrue(err.startsWith("portico-express: "), err);
                assertTrue(err.contains("usage: java -jar portico-express.jar"), err);
                assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack trace: " + err);
                assertEquals("", express.stdout());
            }
        }
        try (ExpressProcess express = ExpressProcess.start("--help")) {
            assertEquals(0, express.awaitExit(Duration.ofSeconds(20)), express.describe());
            assertTrue(express.stdout().startsWith("usage: java -jar portico-express.jar"), express.stdout());
            assertTrue(express.stdout().contains("--port N"), express.stdout());
        }
    }
}
