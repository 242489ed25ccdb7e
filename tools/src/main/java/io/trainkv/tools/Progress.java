package io.trainkv.tools;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Supplier;
import org.jline.terminal.spi.SystemStream;

/**
 * A one-line progress display on standard error. On a terminal it is redrawn in place ({@code \r})
 * while a long job runs on another thread and finished with a newline; without one (output
 * redirected, CI logs) nothing is printed while the job runs and one summary line at the end, so
 * scripts and logs see no {@code \r} or padding. Lines printed during the job go through
 * {@link #println} so that they never land in the middle of a half-drawn bar. The summary line is
 * printed only for a job marked {@link #succeeded}: a job that fails or stops is closed (by
 * try-with-resources, whatever threw) with its bar cleared and nothing more, so that its one
 * {@code error:} line is all a person sees.
 */
final class Progress implements AutoCloseable {

    private static final long INTERVAL_MILLIS = 250;

    private final PrintStream err;
    private final boolean terminal;
    private final Supplier<String> status;
    private final Thread painter;
    private volatile boolean done;
    private volatile boolean succeeded;
    /** Characters of the bar currently drawn on the terminal line, 0 when the line is clear. */
    private int drawn;

    private Progress(PrintStream err, boolean terminal, Supplier<String> status) {
        this.err = err;
        this.terminal = terminal;
        this.status = status;
        this.painter = new Thread(this::paint, "trainkv-progress");
        this.painter.setDaemon(true);
    }

    /** Starts redrawing {@code status} on standard error until closed, if standard error is a terminal. */
    static Progress start(Supplier<String> status) {
        return start(System.err, errorIsTerminal(), status);
    }

    /** Whether standard error, where the bar is drawn, is a terminal. */
    static boolean errorIsTerminal() {
        return Terminals.isTerminal(SystemStream.Error);
    }

    /** Starts a display on {@code err}, redrawn in place only when {@code terminal} is true. */
    static Progress start(PrintStream err, boolean terminal, Supplier<String> status) {
        Progress progress = new Progress(err, terminal, status);
        if (terminal) {
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

    /** Prints {@code line} (an error or a note) on a line of its own, first clearing any drawn bar. */
    synchronized void println(String line) {
        clearLine();
        err.println(line);
    }

    private void paint() {
        while (!done) {
            synchronized (this) {
                if (done) {
                    return;
                }
                String text = status.get();
                err.print("\r" + text + " ".repeat(Math.max(0, drawn - text.length())));
                err.flush();
                drawn = text.length();
            }
            try {
                Thread.sleep(INTERVAL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void clearLine() {
        if (drawn > 0) {
            err.print("\r" + " ".repeat(drawn) + "\r");
            drawn = 0;
        }
    }

    /** Marks the job as finished in full, so that {@link #close} prints its final status line. */
    void succeeded() {
        succeeded = true;
    }

    /**
     * Stops redrawing and clears the drawn bar; prints the final status as one line only if the job
     * {@link #succeeded}.
     */
    @Override
    public void close() {
        done = true;
        painter.interrupt();
        try {
            painter.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            clearLine();
            if (succeeded) {
                err.println(status.get());
            }
            err.flush();
        }
    }
}
