package io.trainkv.bench.db;

import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * The progress line on standard error while a workload runs: operations done, percent and the
 * rate so far, rewritten in place once a second, and erased when the workload ends. It is drawn
 * only when standard error is a terminal, which the JDK cannot tell: {@code scripts/bench} says so
 * ({@code test -t 2}) in the system property {@value #TERMINAL_PROPERTY}, and the runner passes it
 * on to its child JVMs, whose standard error is this process's. Without it (CI logs, output to a
 * file, the test suite) nothing is printed.
 */
final class Progress implements AutoCloseable {

    /** System property, {@code true} when standard error is a terminal. */
    static final String TERMINAL_PROPERTY = "trainkv.bench.stderrTerminal";

    private static final long INTERVAL_MILLIS = 1000;

    private final LongAdder done = new LongAdder();
    private final String label;
    private final long total;
    private final long start = System.nanoTime();
    private final Thread printer;
    private int width;

    Progress(String label, long total) {
        this.label = label;
        this.total = total;
        this.printer = new Thread(this::printLoop, "bench-progress");
        printer.setDaemon(true);
        if (onTerminal()) {
            printer.start();
        }
    }

    /** Whether standard error is a terminal, as {@value #TERMINAL_PROPERTY} says (false when unset). */
    static boolean onTerminal() {
        return Boolean.getBoolean(TERMINAL_PROPERTY);
    }

    void add() {
        done.increment();
    }

    private void printLoop() {
        try {
            while (true) {
                Thread.sleep(INTERVAL_MILLIS);
                long ops = done.sum();
                double seconds = (System.nanoTime() - start) / 1e9;
                print(String.format(Locale.ROOT, "%s: %,d of %,d ops (%.0f%%), %,.0f ops/s", label, ops, total,
                        100.0 * ops / total, ops / seconds));
            }
        } catch (InterruptedException e) {
            // the workload is over
        }
    }

    private synchronized void print(String line) {
        System.err.print("\r" + line + " ".repeat(Math.max(0, width - line.length())));
        System.err.flush();
        width = line.length();
    }

    @Override
    public void close() {
        printer.interrupt();
        try {
            printer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (width > 0) {
            print("");
            System.err.print("\r");
            System.err.flush();
        }
    }
}
