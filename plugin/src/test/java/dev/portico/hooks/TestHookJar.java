package dev.portico.hooks;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import dev.portico.hooks.api.HostingEvent;

/**
 * Hook jars for the tests, compiled from {@code src/test/resources/testhooks/*.java} against the
 * hooks runtime jar (CDI) and the API, the way a hook author builds one. Compiled here rather than
 * by Maven so that no CDI class is on the test class path: the webapps of the tests must find none.
 */
final class TestHookJar {

    private TestHookJar() {
    }

    /** The runtime jar the plugin carries (target/classes in a build). */
    static Path runtimeJar() {
        return path(LifecycleHooks.class.getResource(HookClassLoaders.RUNTIME_RESOURCE));
    }

    /** The worked example of docs/hooks.md, built by Maven (hooks-example). */
    static Path exampleJar() {
        Path jar = Path.of(System.getProperty("portico.exampleHook", "target/hooks/portico-crash-log-hook.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no example hook jar at " + jar.toAbsolutePath());
        }
        return jar;
    }

    /** Compiles the test hooks into {@code jar}, with a beans.xml (annotated discovery). */
    static Path build(Path jar) {
        return build(jar, "testhooks");
    }

    /** Compiles the sources in the test resource directory {@code sources} into {@code jar}, with a beans.xml. */
    static Path build(Path jar, String sourceDirectory) {
        try {
            Path work = Files.createTempDirectory("testhooks");
            Path sources = path(TestHookJar.class.getResource("/" + sourceDirectory));
            List<String> args = new ArrayList<>(List.of("-d", work.toString(), "-classpath",
                    runtimeJar() + java.io.File.pathSeparator + path(HostingEvent.class.getProtectionDomain()
                            .getCodeSource().getLocation()), "--release", "17", "-proc:none"));
            try (Stream<Path> files = Files.list(sources)) {
                files.filter(f -> f.toString().endsWith(".java")).forEach(f -> args.add(f.toString()));
            }
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            if (javac.run(null, null, null, args.toArray(String[]::new)) != 0) {
                throw new IllegalStateException("the test hooks do not compile");
            }
            Files.createDirectories(jar.getParent());
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
                out.putNextEntry(new JarEntry("META-INF/beans.xml"));
                out.write("<beans xmlns=\"https://jakarta.ee/xml/ns/jakartaee\" version=\"4.0\" bean-discovery-mode=\"annotated\"/>"
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
                try (Stream<Path> classes = Files.walk(work)) {
                    for (Path file : (Iterable<Path>) classes.filter(Files::isRegularFile)::iterator) {
                        out.putNextEntry(new JarEntry(work.relativize(file).toString().replace('\\', '/')));
                        Files.copy(file, out);
                    }
                }
            }
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A jar of the CDI and Jakarta Inject API classes alone (from the runtime jar): a webapp's "own CDI". */
    static Path cdiApiJar(Path jar) {
        try (java.util.zip.ZipFile runtime = new java.util.zip.ZipFile(runtimeJar().toFile());
                OutputStream file = Files.newOutputStream(jar);
                JarOutputStream out = new JarOutputStream(file)) {
            for (java.util.zip.ZipEntry entry : runtime.stream().map(java.util.zip.ZipEntry.class::cast).toList()) {
                if ((entry.getName().startsWith("jakarta/enterprise/") || entry.getName().startsWith("jakarta/inject/"))
                        && !entry.isDirectory()) {
                    out.putNextEntry(new JarEntry(entry.getName()));
                    runtime.getInputStream(entry).transferTo(out);
                }
            }
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path path(URL url) {
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
