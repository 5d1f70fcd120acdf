package dev.portico.hosting;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one place Portico's threads come from, for every pool and every single thread. Like
 * Tomcat's TaskThreadFactory and Jetty's QueuedThreadPool, a thread gets the loader of Portico's
 * own classes as its context class loader, never its creator's: threads are created lazily, often
 * on a request thread of some Context, and a thread holding that Context's loader keeps the whole
 * web application in memory after it stops (and Tomcat warns of it). Nor does a thread inherit
 * its creator's inheritable thread locals, which may hold objects of a web application too.
 * Every thread is a daemon: a Portico thread never keeps the JVM alive; the valve ends them.
 */
public final class PorticoThreads implements ThreadFactory {

    private static final ClassLoader PORTICO_LOADER = PorticoThreads.class.getClassLoader();

    private final String prefix;
    private final AtomicInteger count = new AtomicInteger();

    /** A factory of threads named {@code <prefix>-1}, {@code <prefix>-2} … */
    public PorticoThreads(String prefix) {
        this.prefix = prefix;
    }

    @Override
    public Thread newThread(Runnable task) {
        return newThread(prefix + "-" + count.incrementAndGet(), task);
    }

    /** One thread, not started, named {@code name}. */
    public static Thread newThread(String name, Runnable task) {
        Thread thread = new Thread(null, task, name, 0, false);
        thread.setDaemon(true);
        thread.setContextClassLoader(PORTICO_LOADER);
        return thread;
    }
}
