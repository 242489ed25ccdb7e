package io.trainkv.bench.db;

import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * The timed phase of one workload on one engine: the measured threads' operations, latencies and
 * bytes, plus the writes of readwhilewriting's background writer, which are not timed.
 *
 * @param ops              timed operations (for scans: entries visited)
 * @param found            reads that found their key, entries visited by scans
 * @param bytes            key and value bytes moved by the timed operations (for MiB/s)
 * @param writes           puts and deletes, the background writer's included
 * @param userBytesWritten key and value bytes of those writes (for write amplification)
 * @param nanos            wall time from the start of the threads to the end of the last timed one
 * @param latency          latencies of the timed operations, in nanoseconds
 */
record Measurement(long ops, long found, long bytes, long writes, long userBytesWritten, long nanos,
                   Histogram latency) {

    /** One timed operation that took {@code nanos} and moved no bytes (an open). */
    static Measurement oneOperation(long nanos) {
        Histogram latency = new Histogram(3);
        latency.recordValue(nanos);
        return new Measurement(1, 0, 0, 0, 0, nanos, latency);
    }

    /** Adds up the timed threads' recorders and the background writer's, if any. */
    static Measurement merge(List<Recorder> timed, Recorder background, long nanos) {
        Histogram latency = new Histogram(3);
        long ops = 0;
        long found = 0;
        long bytes = 0;
        long writes = background == null ? 0 : background.writes;
        long userBytesWritten = background == null ? 0 : background.userBytesWritten;
        for (Recorder r : timed) {
            latency.add(r.latency);
            ops += r.ops;
            found += r.found;
            bytes += r.bytes;
            writes += r.writes;
            userBytesWritten += r.userBytesWritten;
        }
        return new Measurement(ops, found, bytes, writes, userBytesWritten, nanos, latency);
    }
}
