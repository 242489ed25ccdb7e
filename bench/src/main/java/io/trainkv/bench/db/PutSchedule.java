package io.trainkv.bench.db;

/**
 * Paces readwhilewriting's writer to a fixed number of puts per second, so that the reads of
 * every engine are measured beside the same write load (db_bench's
 * {@code --benchmark_write_rate_limit}, counted in puts rather than bytes). Put {@code n} (from 0)
 * is due {@code n / rate} seconds after the start; a writer that fell behind writes the puts that
 * are due without waiting.
 */
final class PutSchedule {

    private final long startNanos;
    private final int putsPerSecond;
    private long granted;

    /** {@code putsPerSecond}: 0 for no limit. */
    PutSchedule(long startNanos, int putsPerSecond) {
        this.startNanos = startNanos;
        this.putsPerSecond = putsPerSecond;
    }

    /**
     * Nanoseconds to wait at {@code nowNanos} before the next put is due, or 0 if it is due now
     * (and then it counts as written).
     */
    long waitNanos(long nowNanos) {
        if (putsPerSecond > 0) {
            long due = startNanos + granted * 1_000_000_000L / putsPerSecond;
            if (nowNanos < due) {
                return due - nowNanos;
            }
        }
        granted++;
        return 0;
    }
}
