package dev.portico.testing;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Every JULI record logged while it is open — Tomcat's and Portico's, both go through
 * java.util.logging here — captured on the root logger, as formatted messages.
 */
public final class CapturedLog extends Handler implements AutoCloseable {

    private final ConcurrentLinkedQueue<LogRecord> records = new ConcurrentLinkedQueue<>();

    public CapturedLog() {
        setLevel(Level.ALL);
        Logger.getLogger("").addHandler(this);
    }

    @Override
    public void publish(LogRecord record) {
        records.add(record);
    }

    /** The messages at {@code level} or above. */
    public List<String> messages(Level level) {
        return records.stream().filter(r -> r.getLevel().intValue() >= level.intValue())
                .map(r -> r.getMessage() == null ? "" : r.getMessage()).toList();
    }

    /** The exceptions logged at {@code level} or above. */
    public List<Throwable> thrown(Level level) {
        return records.stream().filter(r -> r.getLevel().intValue() >= level.intValue() && r.getThrown() != null)
                .map(LogRecord::getThrown).toList();
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        Logger.getLogger("").removeHandler(this);
    }
}
