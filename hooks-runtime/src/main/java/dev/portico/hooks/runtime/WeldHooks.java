package dev.portico.hooks.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import jakarta.enterprise.inject.spi.BeanManager;
import jakarta.enterprise.inject.spi.ObserverMethod;

import org.jboss.weld.environment.se.Weld;
import org.jboss.weld.environment.se.WeldContainer;
import org.jboss.weld.resources.ClassLoaderResourceLoader;

/**
 * One Weld SE container over the hook jars, and the observers it resolves for an event. This
 * class lives in the hook class loader with Weld, so the plugin reaches it through JDK types
 * only ({@code List}, {@code Map.Entry}, {@code Consumer}): no Weld or CDI type crosses into
 * Tomcat's class loaders. The plugin calls each observer itself, so that one that throws or
 * hangs is told apart from the others (CDI's {@code Event.fire} stops at the first exception).
 */
public final class WeldHooks implements AutoCloseable {

    /** Observer lists per event class: the beans never change after the container started. */
    private final Map<Class<?>, List<List<Map.Entry<String, Consumer<Object>>>>> observers = new ConcurrentHashMap<>();
    private final WeldContainer container;
    private final BeanManager beanManager;

    /**
     * Boots the container; what Weld throws (a definition or deployment error in a hook) propagates.
     *
     * @param hookLoader finds the hook jars' {@code META-INF/beans.xml}, and only theirs
     */
    public WeldHooks(ClassLoader hookLoader, String containerId) {
        Weld weld = new Weld(containerId)
                .setResourceLoader(new ClassLoaderResourceLoader(hookLoader))
                .skipShutdownHook()
                // no JVM-wide pool (Weld SE's default is the common ForkJoinPool): the plugin runs observers
                .property("org.jboss.weld.executor.threadPoolType", "NONE")
                .property("org.jboss.weld.bootstrap.concurrentDeployment", false)
                .property("org.jboss.weld.bootstrap.preloaderThreadPoolSize", 0);
        this.container = weld.initialize();
        this.beanManager = container.getBeanManager();
    }

    /** The synchronous observers of {@code event}, in notification order: bean class name and the call. */
    public List<Map.Entry<String, Consumer<Object>>> synchronousObservers(Object event) {
        return resolved(event).get(0);
    }

    /** The asynchronous ({@code @ObservesAsync}) observers of {@code event}. */
    public List<Map.Entry<String, Consumer<Object>>> asynchronousObservers(Object event) {
        return resolved(event).get(1);
    }

    private List<List<Map.Entry<String, Consumer<Object>>>> resolved(Object event) {
        return observers.computeIfAbsent(event.getClass(), type -> {
            List<Map.Entry<String, Consumer<Object>>> sync = new ArrayList<>();
            List<Map.Entry<String, Consumer<Object>>> async = new ArrayList<>();
            for (ObserverMethod<? super Object> observer : beanManager.resolveObserverMethods(event)) {
                Map.Entry<String, Consumer<Object>> call = Map.entry(observer.getBeanClass().getName(), observer::notify);
                (observer.isAsync() ? async : sync).add(call);
            }
            return List.of(List.copyOf(sync), List.copyOf(async));
        });
    }

    /** The bean classes that observe anything, for the log line at boot. */
    public List<String> observerClasses(List<Object> sampleEvents) {
        List<String> names = new ArrayList<>();
        for (Object event : sampleEvents) {
            for (List<Map.Entry<String, Consumer<Object>>> list : resolved(event)) {
                for (Map.Entry<String, Consumer<Object>> call : list) {
                    if (!names.contains(call.getKey())) {
                        names.add(call.getKey());
                    }
                }
            }
        }
        return names;
    }

    @Override
    public void close() {
        container.shutdown();
    }
}
