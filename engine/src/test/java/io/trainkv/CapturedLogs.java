package io.trainkv;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Keeps what the engine logs (through {@link System.Logger}, which writes to java.util.logging
 * under {@code io.trainkv}) while a test provokes failures: the records can be checked, and a
 * green run prints nothing. Close it to restore logging.
 */
public final class CapturedLogs implements AutoCloseable {

    /** Held strongly: the logging framework keeps loggers only weakly. */
    private final Logger logger = Logger.getLogger("io.trainkv");
    private final boolean usedParentHandlers = logger.getUseParentHandlers();
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final SimpleFormatter formatter = new SimpleFormatter();
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

    /** Starts capturing every record of the {@code io.trainkv} loggers. */
    public CapturedLogs() {
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

    /** The formatted messages logged at {@code level} or above so far, oldest first. */
    public List<String> messages(Level level) {
        return records.stream().filter(r -> r.getLevel().intValue() >= level.intValue())
                .map(formatter::formatMessage).toList();
    }

    /** The records, for failure messages. */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        for (LogRecord record : records) {
            text.append(record.getLevel()).append(' ').append(formatter.formatMessage(record)).append(": ")
                    .append(record.getThrown()).append('\n');
        }
        return text.toString();
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
        logger.setUseParentHandlers(usedParentHandlers);
    }
}
