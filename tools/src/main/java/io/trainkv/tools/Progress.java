package io.trainkv.tools;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * A one-line progress display on standard error, redrawn in place ({@code \r}) while a long job
 * runs on another thread, and finished with a newline. Without a terminal (output redirected,
 * CI logs) only that final line is printed, so scripts and logs are not flooded.
 */
final class Progress implements AutoCloseable {

    private static final long INTERVAL_MILLIS = 250;

    private final PrintStream err;
    private final Supplier<String> status;
    private final Thread painter;
    private volatile boolean done;

    private Progress(PrintStream err, Supplier<String> status) {
        this.err = err;
        this.status = status;
        this.painter = new Thread(this::paint, "trainkv-progress");
        this.painter.setDaemon(true);
    }

    /** Starts redrawing {@code status} until closed. */
    static Progress start(Supplier<String> status) {
        Progress progress = new Progress(System.err, status);
        if (System.console() != null) {
            progress.painter.start();
        }
        return progress;
    }

    /** A bar like {@code [#####     ] 50%} for {@code done} of {@code total}. */
    static String bar(long done, long total) {
        int width = 30;
        int filled = total <= 0 ? width : (int) Math.min(width, width * done / total);
        return "[" + "#".repeat(filled) + " ".repeat(width - filled) + "] "
                + String.format(Locale.ROOT, "%3d%%", total <= 0 ? 100 : Math.min(100, 100 * done / total));
    }

    private void paint() {
        while (!done) {
            err.print("\r" + status.get() + "   ");
            err.flush();
            try {
                Thread.sleep(INTERVAL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        done = true;
        painter.interrupt();
        try {
            painter.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        err.println("\r" + status.get() + "   ");
    }
}
