package io.trainkv;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Keeps what the engine logs (through {@link System.Logger}, which writes to java.util.logging
 * under {@code io.trainkv}) while a test provokes failures: the records can be checked, and a
 * green run prints nothing.
 */
final class CapturedLogs implements AutoCloseable {

    private final Logger logger = Logger.getLogger("io.trainkv");
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final boolean parentHandlers;
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    CapturedLogs() {
        parentHandlers = logger.getUseParentHandlers();
        logger.addHandler(handler);
        logger.setUseParentHandlers(false);
    }

    /** Whether a record at {@code level} or above has {@code text} in its message and {@code thrown} in its causes. */
    boolean has(Level level, String text, Class<? extends Throwable> thrown) {
        for (LogRecord record : records) {
            if (record.getLevel().intValue() >= level.intValue() && record.getMessage().contains(text)
                    && causedBy(record.getThrown(), thrown)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code type} is {@code error} or one of its causes. */
    static boolean causedBy(Throwable error, Class<? extends Throwable> type) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** The records, for failure messages. */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        for (LogRecord record : records) {
            text.append(record.getLevel()).append(' ').append(record.getMessage()).append(": ")
                    .append(record.getThrown()).append('\n');
        }
        return text.toString();
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
        logger.setUseParentHandlers(parentHandlers);
    }
}
