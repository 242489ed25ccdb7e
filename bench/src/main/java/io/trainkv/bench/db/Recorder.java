package io.trainkv.bench.db;

import org.HdrHistogram.Histogram;

/**
 * What one benchmark thread measured: a latency histogram and its counters. Each thread owns
 * one, so recording takes no lock; {@link Measurement#merge} adds them up when the threads are done.
 */
final class Recorder {

    private final Progress progress;
    final Histogram latency = new Histogram(3);
    long ops;
    long found;
    long bytes;
    long writes;
    long userBytesWritten;

    /** {@code progress} is ticked once per operation; null for the untimed background writer. */
    Recorder(Progress progress) {
        this.progress = progress;
    }

    /** A read or scan step that started at {@code startNanos} and returned {@code bytes} of key and value. */
    void read(long startNanos, boolean hit, int bytes) {
        latency.recordValue(System.nanoTime() - startNanos);
        ops++;
        if (hit) {
            found++;
            this.bytes += bytes;
        }
        tick();
    }

    /** A put or delete of {@code bytes} of key and value that started at {@code startNanos}. */
    void write(long startNanos, int bytes) {
        latency.recordValue(System.nanoTime() - startNanos);
        ops++;
        this.bytes += bytes;
        writes++;
        userBytesWritten += bytes;
        tick();
    }

    private void tick() {
        if (progress != null) {
            progress.add();
        }
    }
}
