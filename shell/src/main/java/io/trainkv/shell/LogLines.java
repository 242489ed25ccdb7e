package io.trainkv.shell;

import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The engine logs through {@link System.Logger}, which the JDK routes to java.util.logging, whose
 * default console handler prints two lines per record (a date and source method, then
 * {@code WARNING: ...}). The shell and the {@code trainkv} tools install this handler at startup so
 * that an engine warning reaches the user in the same one-line style as their own messages:
 * {@code warning: <message>} or {@code error: <message>: <cause in words>}, never a stack trace.
 */
public final class LogLines {

    /** Held strongly: java.util.logging keeps loggers weakly, and a collected logger loses its handler. */
    private static final Logger ENGINE = Logger.getLogger("io.trainkv");

    /** Formats a record's message with its parameters, as the JDK's own formatters do. */
    private static final Formatter MESSAGE = new Formatter() {
        @Override
        public String format(LogRecord record) {
            return formatMessage(record);
        }
    };

    private LogLines() {
    }

    /**
     * Routes the {@code io.trainkv} loggers to one line each on standard error (looked up when a
     * record is published, so a replaced {@link System#err} is honoured). WARNING and SEVERE are
     * printed; INFO and finer only when {@code verbose}. Calling it again replaces the earlier setup.
     */
    public static void install(boolean verbose) {
        route(ENGINE, verbose);
    }

    /**
     * Routes {@code logger} and its children (a library's loggers, e.g. {@code org.apache.ratis}
     * in {@code trainkv server}) the same way as {@link #install}; the caller holds the logger
     * strongly, as java.util.logging keeps loggers weakly.
     */
    public static void route(Logger logger, boolean verbose) {
        for (Handler handler : logger.getHandlers()) {
            if (handler instanceof StandardErrorHandler) {
                logger.removeHandler(handler);
            }
        }
        Level level = verbose ? Level.INFO : Level.WARNING;
        StandardErrorHandler handler = new StandardErrorHandler();
        handler.setLevel(level);
        logger.setLevel(level);
        logger.setUseParentHandlers(false);
        logger.addHandler(handler);
    }

    /** One record as one line: {@code warning: ...}, {@code error: ...} or {@code info: ...}. */
    static String line(LogRecord record) {
        String message = MESSAGE.format(record);
        if (record.getThrown() != null) {
            String cause = ErrorWords.of(record.getThrown());
            if (!message.contains(cause)) {
                message += ": " + cause;
            }
        }
        int severity = record.getLevel().intValue();
        String prefix = severity >= Level.SEVERE.intValue() ? "error: "
                : severity >= Level.WARNING.intValue() ? "warning: " : "info: ";
        return prefix + message;
    }

    /** Prints each loggable record as {@link #line} on the current standard error. */
    private static final class StandardErrorHandler extends Handler {

        @Override
        public void publish(LogRecord record) {
            if (isLoggable(record)) {
                System.err.println(line(record));
                System.err.flush();
            }
        }

        @Override
        public void flush() {
            System.err.flush();
        }

        @Override
        public void close() {
            flush();
        }
    }
}
