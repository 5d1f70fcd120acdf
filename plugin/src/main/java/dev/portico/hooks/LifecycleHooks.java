package dev.portico.hooks;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.apache.tomcat.util.res.StringManager;

import dev.portico.hooks.api.AppDeployed;
import dev.portico.hooks.api.AppOffline;
import dev.portico.hooks.api.AppOnline;
import dev.portico.hooks.api.AppRemoved;
import dev.portico.hooks.api.BackoffScheduled;
import dev.portico.hooks.api.ContextStarted;
import dev.portico.hooks.api.ContextStopped;
import dev.portico.hooks.api.HostingEvent;
import dev.portico.hooks.api.ProcessExited;
import dev.portico.hooks.api.ProcessReady;
import dev.portico.hooks.api.ProcessStarting;
import dev.portico.hooks.api.RecycleBegun;
import dev.portico.hooks.api.RecycleFinished;
import dev.portico.hooks.api.StartFailed;
import dev.portico.hosting.HostingEvents;
import dev.portico.hosting.PorticoThreads;

/**
 * The lifecycle hooks: one Weld SE container over the jars in the valve's hooksPath, told of
 * every hosting transition as a typed event ({@link dev.portico.hooks.api}).
 *
 * <p>How observers are called, so that a hook never breaks hosting:
 * <ul>
 * <li>{@code @Observes} observers get the events in the order they happened, one call at a time,
 *     on one Portico thread; hosting does not wait for them — except for {@link ProcessStarting},
 *     whose observers may change or veto the start, and which the launching thread waits for, up
 *     to hookTimeLimit in all.</li>
 * <li>{@code @ObservesAsync} observers are called in parallel on a pool, each event to each.</li>
 * <li>Every call is bounded by hookTimeLimit: past it the observer is logged with its class and
 *     interrupted; one that still does not return is abandoned with its thread, and the ordered
 *     events go on on a new one. An observer that throws is logged with its class; the others
 *     still get the event (CDI's own {@code Event.fire} would stop at the first exception).</li>
 * </ul>
 * The observers of each event type are resolved once, when the container starts, so an event
 * costs a map lookup and a hand-over to the observers' thread.
 */
public final class LifecycleHooks implements HostingEvents, AutoCloseable {

    private static final Log log = LogFactory.getLog(LifecycleHooks.class);
    private static final StringManager sm = StringManager.getManager(LifecycleHooks.class);
    private static final String BRIDGE = "dev.portico.hooks.runtime.WeldHooks";
    /** One event of every type: resolving them at boot fills the observer table. */
    private static final List<HostingEvent> EVERY_TYPE = List.of(new AppDeployed("", "", "", 0), new AppRemoved("", ""),
            new AppOffline(""), new AppOnline(""), new ProcessStarting("", 0, List.of(), Map.of()),
            new ProcessReady("", 0, 0, 0, Duration.ZERO), new ProcessExited("", 0, 0, 0, false, ""),
            new StartFailed("", 0, "", ""), new BackoffScheduled("", Duration.ZERO, Instant.EPOCH, 0),
            new RecycleBegun("", 0, ""), new RecycleFinished("", 0, false, ""), new ContextStarted("", "", 0),
            new ContextStopped("", "", 0));

    private record Observer(String beanClass, Consumer<Object> call) {
    }

    private record Observers(List<Observer> sync, List<Observer> async) {
        static final Observers NONE = new Observers(List.of(), List.of());
    }

    private final HookClassLoaders loaders;
    private final AutoCloseable container;
    private final Map<Class<?>, Observers> observers = new ConcurrentHashMap<>();
    private final Duration limit;
    private final ExecutorService questions = Executors.newCachedThreadPool(new PorticoThreads("portico-hooks-start"));
    private final ExecutorService async = Executors.newCachedThreadPool(new PorticoThreads("portico-hooks-async"));
    private volatile ExecutorService ordered = newOrdered();
    private final Set<Call> running = ConcurrentHashMap.newKeySet();
    private final ScheduledFuture<?> watchdog;

    private LifecycleHooks(HookClassLoaders loaders, Object bridge, Duration limit, ScheduledExecutorService timers)
            throws ReflectiveOperationException {
        this.loaders = loaders;
        this.container = (AutoCloseable) bridge;
        this.limit = limit;
        Method sync = bridge.getClass().getMethod("synchronousObservers", Object.class);
        Method asynchronous = bridge.getClass().getMethod("asynchronousObservers", Object.class);
        for (HostingEvent event : EVERY_TYPE) {
            observers.put(event.getClass(), new Observers(resolve(sync, bridge, event), resolve(asynchronous, bridge, event)));
        }
        long period = Math.max(50, limit.toMillis() / 4);
        this.watchdog = timers.scheduleWithFixedDelay(this::watch, period, period, TimeUnit.MILLISECONDS);
    }

    @SuppressWarnings("unchecked")
    private static List<Observer> resolve(Method method, Object bridge, Object event) throws ReflectiveOperationException {
        List<Observer> list = new ArrayList<>();
        for (Map.Entry<String, Consumer<Object>> entry : (List<Map.Entry<String, Consumer<Object>>>) method.invoke(bridge, event)) {
            list.add(new Observer(entry.getKey(), entry.getValue()));
        }
        return List.copyOf(list);
    }

    /**
     * Boots the hooks of {@code dir}; null (and nothing booted) when the directory does not exist,
     * holds no jar or no bean archive, or the container fails to start: hosting then runs without
     * hooks, and the log says why.
     *
     * @param workDir where the Weld runtime is unpacked
     * @param timers short tasks: the watchdog of observer calls
     */
    public static LifecycleHooks start(Path dir, Path workDir, Duration limit, ScheduledExecutorService timers,
            String containerId) {
        if (!Files.isDirectory(dir)) {
            return null;
        }
        long begin = System.nanoTime();
        HookClassLoaders loaders = null;
        try {
            List<Path> jars = HookClassLoaders.jarsIn(dir);
            if (HookClassLoaders.beanArchives(jars).isEmpty()) {
                log.warn(sm.getString(jars.isEmpty() ? "hooks.noJars" : "hooks.noBeanArchive", dir, jars));
                return null;
            }
            HookClassLoaders created = HookClassLoaders.create(jars, workDir);
            loaders = created;
            // Weld looks for some of its own services through the context loader
            Object bridge = withLoader(created.hooks(), () -> created.runtime().loadClass(BRIDGE)
                    .getConstructor(ClassLoader.class, String.class).newInstance(created.hooks(), containerId));
            LifecycleHooks hooks = new LifecycleHooks(created, bridge, limit, timers);
            log.info(sm.getString("hooks.started", containerId, dir, String.valueOf(jars.size()),
                    String.valueOf(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin)), hooks.observerClasses()));
            return hooks;
        } catch (Throwable t) {
            Throwable cause = t instanceof InvocationTargetException ite && ite.getCause() != null ? ite.getCause() : t;
            log.error(sm.getString("hooks.bootFailed", dir, cause.toString()), cause);
            if (loaders != null) {
                loaders.close();
            }
            return null;
        }
    }

    private interface Action<T> {
        T run() throws Exception;
    }

    private static <T> T withLoader(ClassLoader loader, Action<T> action) throws Exception {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            return action.run();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private Set<String> observerClasses() {
        Set<String> names = new LinkedHashSet<>();
        for (Observers each : observers.values()) {
            each.sync().forEach(o -> names.add(o.beanClass()));
            each.async().forEach(o -> names.add(o.beanClass()));
        }
        return names;
    }

    private static ExecutorService newOrdered() {
        return Executors.newSingleThreadExecutor(new PorticoThreads("portico-hooks"));
    }

    // ---------------------------------------------------------------- HostingEvents

    /** Asks the synchronous observers on a copy, up to hookTimeLimit: what they change later never reaches the process. */
    @Override
    public void ask(ProcessStarting question) {
        List<Observer> sync = observers.getOrDefault(ProcessStarting.class, Observers.NONE).sync();
        if (sync.isEmpty()) {
            return;
        }
        ProcessStarting asked = new ProcessStarting(question.app(), question.generation(), question.arguments(),
                question.environment());
        AtomicReference<Observer> running = new AtomicReference<>();
        Future<?> answered;
        try {
            answered = questions.submit(() -> {
                for (Observer observer : sync) {
                    running.set(observer);
                    new Call(observer, asked, false).run();
                }
            });
        } catch (RejectedExecutionException stopping) {
            return;
        }
        try {
            answered.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.warn(sm.getString("hooks.questionTimeout", asked, String.valueOf(limit.toMillis()),
                    running.get().beanClass()));
            answered.cancel(true);
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answered.cancel(true);
            return;
        } catch (ExecutionException e) {
            return; // a Call catches everything an observer throws
        }
        if (asked.vetoed()) {
            question.veto(asked.vetoReason());
            return;
        }
        apply(asked, question.arguments(), question.environment());
    }

    /** What the observers made of the start, checked: a process cannot have a NUL in an argument, nor '=' in a name. */
    private static void apply(ProcessStarting question, List<String> arguments, Map<String, String> environment) {
        arguments.clear();
        for (String argument : question.arguments()) {
            if (argument == null || argument.indexOf('\0') >= 0) {
                log.warn(sm.getString("hooks.badArgument", question.app()));
            } else {
                arguments.add(argument);
            }
        }
        environment.keySet().retainAll(question.environment().keySet());
        question.environment().forEach((name, value) -> {
            if (name == null || name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0 || value == null
                    || value.indexOf('\0') >= 0) {
                log.warn(sm.getString("hooks.badVariable", String.valueOf(name), question.app()));
            } else {
                environment.put(name, value);
            }
        });
    }

    /** Hands {@code event} to its observers and returns at once. */
    @Override
    public void tell(HostingEvent event) {
        Observers each = observers.getOrDefault(event.getClass(), Observers.NONE);
        try {
            if (!each.sync().isEmpty()) {
                Runnable inOrder = () -> {
                    for (Observer observer : each.sync()) {
                        new Call(observer, event, true).run();
                    }
                };
                ExecutorService target = ordered;
                try {
                    target.execute(inOrder);
                } catch (RejectedExecutionException replaced) {
                    if (ordered == target) {
                        throw replaced;
                    }
                    ordered.execute(inOrder); // the thread was replaced (an abandoned observer) meanwhile
                }
            }
            for (Observer observer : each.async()) {
                async.execute(new Call(observer, event, false));
            }
        } catch (RejectedExecutionException stopping) {
            // the valve is stopping: events after the hooks closed are not told
        }
    }

    /** One observer called with one event, within hookTimeLimit, on the current thread. */
    private final class Call implements Runnable {
        private final Observer observer;
        private final Object event;
        /** On the thread of the ordered events, which a call that never returns must not keep. */
        private final boolean inOrder;
        private Thread thread;
        private long startedNanos;
        private boolean interrupted;

        Call(Observer observer, Object event, boolean inOrder) {
            this.observer = observer;
            this.event = event;
            this.inOrder = inOrder;
        }

        @Override
        public void run() {
            Thread current = Thread.currentThread();
            synchronized (this) {
                thread = current;
                startedNanos = System.nanoTime();
            }
            ClassLoader previous = current.getContextClassLoader();
            current.setContextClassLoader(loaders.hooks());
            running.add(this);
            try {
                observer.call().accept(event);
            } catch (Throwable t) {
                log.warn(sm.getString("hooks.observerFailed", observer.beanClass(), event), t);
            } finally {
                synchronized (this) {
                    running.remove(this);
                    Thread.interrupted(); // an interrupt meant for this call must not reach the next one
                }
                current.setContextClassLoader(previous);
            }
        }

        /** Called by the watchdog: interrupts a call past the limit, abandons one past twice the limit. */
        synchronized void check(long now) {
            if (!running.contains(this)) {
                return;
            }
            long overdue = now - startedNanos - limit.toNanos();
            if (overdue >= 0 && !interrupted) {
                interrupted = true;
                log.warn(sm.getString("hooks.observerOverdue", observer.beanClass(), event, String.valueOf(limit.toMillis())));
                thread.interrupt();
            } else if (overdue >= limit.toNanos()) {
                running.remove(this);
                log.error(sm.getString("hooks.threadAbandoned", observer.beanClass(), event, thread.getName()));
                if (inOrder) {
                    ExecutorService stuck = ordered;
                    ordered = newOrdered();
                    for (Runnable pending : stuck.shutdownNow()) {
                        ordered.execute(pending);
                    }
                }
            }
        }
    }

    /** Every call in progress is looked at a few times per hookTimeLimit: no timer per call. */
    private void watch() {
        long now = System.nanoTime();
        for (Call call : running) {
            try {
                call.check(now);
            } catch (RuntimeException e) {
                // a periodic task that throws is never run again: the next calls would go unwatched
                log.warn(sm.getString("hooks.observerFailed", call.observer.beanClass(), call.event), e);
            }
        }
    }

    // ---------------------------------------------------------------- end

    /**
     * Lets the events already told reach their observers (up to hookTimeLimit), shuts the
     * container down ({@code @PreDestroy} and {@code @Destroyed} observers run) and closes the
     * hook class loaders.
     */
    @Override
    public void close() {
        long deadline = System.nanoTime() + limit.toNanos();
        ExecutorService[] pools = {ordered, async, questions};
        for (ExecutorService pool : pools) {
            pool.shutdown();
        }
        List<String> left = new ArrayList<>();
        for (ExecutorService pool : pools) {
            try {
                if (!pool.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    pool.shutdownNow();
                    left.add(pool == async ? "portico-hooks-async" : pool == questions ? "portico-hooks-start" : "portico-hooks");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                pool.shutdownNow();
            }
        }
        watchdog.cancel(false);
        if (!left.isEmpty()) {
            log.warn(sm.getString("hooks.threadsLeft", left));
        }
        try {
            withLoader(loaders.hooks(), () -> {
                container.close();
                return null;
            });
        } catch (Throwable t) {
            log.warn(sm.getString("hooks.stopFailed", t.toString()), t);
        }
        loaders.close();
    }
}
