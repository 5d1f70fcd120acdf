package dev.portico.outofprocess.backend;

/** Too many requests are waiting for a ready process already (maxQueuedRequests): this one is turned away at once. */
public final class PoolSaturated extends Exception {

    private static final long serialVersionUID = 1L;

    public PoolSaturated(String message) {
        super(message, null, false, false);
    }
}
