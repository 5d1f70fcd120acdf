package dev.portico.integration.testapp;

import dev.portico.integration.ShutdownAction;

import java.util.concurrent.atomic.AtomicInteger;

/** A shutdown action for tests that run inside the test JVM: counts instead of exiting. */
public final class ShutdownRecorder {

    private static final AtomicInteger COUNT = new AtomicInteger();

    private ShutdownRecorder() {
    }

    public static ShutdownAction action() {
        return reason -> COUNT.incrementAndGet();
    }

    public static int count() {
        return COUNT.get();
    }
}
