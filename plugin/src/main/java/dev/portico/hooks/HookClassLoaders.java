package dev.portico.hooks;

import java.io.IOException;
import java.io.InputStream;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.stream.Stream;

/**
 * The class loaders of the lifecycle hooks, none of which Tomcat or a webapp can reach:
 *
 * <pre>
 *   platform (JDK) ◀── api: the JDK, plus dev.portico.hooks.api.* from the plugin's own loader
 *                        ◀── runtime: Weld SE and its dependencies (the jar the plugin jar carries)
 *                             ◀── hooks: the jars in hooksPath
 * </pre>
 *
 * The event classes are the one thing shared, so that the plugin's events are the hooks' events;
 * nothing of Tomcat, Portico's internals, Jetty or any webapp is visible to a hook, and Weld's
 * classes and its {@code META-INF/services} entries never enter Tomcat's common loader (a webapp
 * looking for CDI finds its own or none). Weld is not relocated: hooks are compiled against the
 * real {@code jakarta.enterprise} names.
 */
final class HookClassLoaders implements AutoCloseable {

    /** Where the plugin jar carries the runtime (copied there by the build). */
    static final String RUNTIME_RESOURCE = "portico-hooks-runtime.jar";
    static final String API_PACKAGE = "dev.portico.hooks.api.";
    private static final String BEANS_XML = "META-INF/beans.xml";

    private final URLClassLoader runtime;
    private final HookJars hooks;

    private HookClassLoaders(URLClassLoader runtime, HookJars hooks) {
        this.runtime = runtime;
        this.hooks = hooks;
    }

    /**
     * @param jars the hook jars
     * @param workDir where the runtime jar is unpacked to (a URLClassLoader cannot read a jar inside a jar)
     */
    static HookClassLoaders create(List<Path> jars, Path workDir) throws IOException {
        Path runtimeJar = unpackRuntime(workDir);
        ClassLoader api = new ApiOnly(HookClassLoaders.class.getClassLoader());
        URLClassLoader runtime = new URLClassLoader("portico-hooks-runtime", new URL[] {url(runtimeJar)}, api);
        List<URL> urls = new ArrayList<>();
        for (Path jar : jars) {
            urls.add(url(jar));
        }
        return new HookClassLoaders(runtime, new HookJars(urls.toArray(URL[]::new), runtime));
    }

    /** The loader of Weld and the bridge. */
    ClassLoader runtime() {
        return runtime;
    }

    /** The loader of the hook jars: their classes, and Weld's discovery looks here only. */
    ClassLoader hooks() {
        return hooks;
    }

    /** The hook jars with a {@code META-INF/beans.xml}, i.e. those CDI will discover beans in. */
    static List<Path> beanArchives(List<Path> jars) throws IOException {
        List<Path> archives = new ArrayList<>();
        for (Path jar : jars) {
            try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.toFile())) {
                if (zip.getEntry(BEANS_XML) != null) {
                    archives.add(jar);
                }
            }
        }
        return archives;
    }

    /** The {@code *.jar} files directly in {@code dir}, by name. */
    static List<Path> jarsIn(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jar") && Files.isRegularFile(f))
                    .sorted().toList();
        }
    }

    private static Path unpackRuntime(Path workDir) throws IOException {
        Files.createDirectories(workDir);
        Path target = workDir.resolve(RUNTIME_RESOURCE);
        try (InputStream in = HookClassLoaders.class.getResourceAsStream(RUNTIME_RESOURCE)) {
            if (in == null) {
                throw new IOException("the plugin jar has no " + RUNTIME_RESOURCE + " (a build without the hooks runtime)");
            }
            // written aside and moved into place: a loader of an earlier start may still have the old file open
            Path temp = Files.createTempFile(workDir, "runtime", ".tmp");
            try {
                Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(temp);
            }
        }
        return target;
    }

    private static URL url(Path file) throws MalformedURLException {
        return file.toUri().toURL();
    }

    @Override
    public void close() {
        for (URLClassLoader loader : new URLClassLoader[] {hooks, runtime}) {
            try {
                loader.close();
            } catch (IOException e) {
                // the files stay open until the loader is collected; nothing else to do
            }
        }
    }

    /** The JDK, plus the event classes from the plugin's loader. */
    private static final class ApiOnly extends ClassLoader {
        static {
            registerAsParallelCapable();
        }

        private final ClassLoader plugin;

        ApiOnly(ClassLoader plugin) {
            super("portico-hooks-api", ClassLoader.getPlatformClassLoader());
            this.plugin = plugin;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith(API_PACKAGE)) {
                return plugin.loadClass(name);
            }
            return super.loadClass(name, resolve);
        }
    }

    /** The hook jars; their own {@code beans.xml} are the only ones Weld's discovery is shown. */
    private static final class HookJars extends URLClassLoader {
        static {
            registerAsParallelCapable();
        }

        HookJars(URL[] jars, ClassLoader runtime) {
            super("portico-hooks", jars, runtime);
        }

        @Override
        public Enumeration<URL> getResources(String name) throws IOException {
            return BEANS_XML.equals(name) ? findResources(name) : super.getResources(name);
        }

        @Override
        public URL getResource(String name) {
            return BEANS_XML.equals(name) ? findResource(name) : super.getResource(name);
        }
    }
}
