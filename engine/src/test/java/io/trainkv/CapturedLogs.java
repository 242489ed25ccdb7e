package io.trainkv;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Holds the engine's log records during a test instead of printing them, so that a passing test
 * prints nothing and a test can assert on the warnings recovery gives. Close it to restore logging.
 */
public final class CapturedLogs implements AutoCloseable {

    /** Held strongly: the logging framework keeps loggers only weakly. */
    private final Logger logger = Logger.getLogger("io.trainkv");
    private final boolean usedParentHandlers = logger.getUseParentHandlers();
    private final List<LogRecord> records = Collections.synchronizedList(new ArrayList<>());
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

    private CapturedLogs() {
        logger.addHandler(handler);
        logger.setUseParentHandlers(false);
    }

    /** Starts capturing every record of the {@code io.trainkv} loggers. */
    public static CapturedLogs start() {
        return new CapturedLogs();
    }

    /** The formatted messages logged at {@code level} or above so far, oldest first. */
    public List<String> messages(Level level) {
        synchronized (records) {
            return records.stream().filter(r -> r.getLevel().intValue() >= level.intValue())
                    .map(formatter::formatMessage).toList();
        }
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
        logger.setUseParentHandlers(usedParentHandlers);
    }
}
