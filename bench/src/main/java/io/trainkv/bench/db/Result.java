package io.trainkv.bench.db;

import java.lang.reflect.RecordComponent;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one workload measured on one engine, as a child process reports it to the runner (one JSON
 * line) and as the report prints it. Counters that could not be measured are -1.
 *
 * @param workload           db_bench name of the workload
 * @param engine             engine name
 * @param note               empty, or why the engine did not run the workload or did not finish it
 * @param ops                timed operations (entries visited, for scans)
 * @param found              reads that found their key; entries visited by scans; -1 if the workload only writes
 * @param liveKeys           keys in the database afterwards, counted by a full scan
 * @param seconds            wall time of the timed operations
 * @param settleSeconds      time spent after a writing workload flushing and waiting for compactions
 * @param bytes              key and value bytes moved by the timed operations
 * @param p50Micros          median latency of one operation
 * @param p99Micros          99th percentile latency
 * @param p999Micros         99.9th percentile latency
 * @param userBytesWritten   key and value bytes of every put and delete (readwhilewriting's writer included)
 * @param diskBytesWritten   bytes the process wrote to disk from open to close ({@code /proc/self/io})
 * @param engineBytesWritten bytes the engine counted as written (WAL and tables), -1 if it counts none
 * @param diskSize           size of the database directory after close
 * @param peakRssBytes       peak resident memory of the process ({@code VmHWM})
 * @param openSeconds        wall time of opening the engine before the workload (untimed, except by the open workload)
 * @param openCpuSeconds     CPU time the opening thread spent in that open (-1 if the JVM cannot tell)
 */
record Result(String workload, String engine, String note, long ops, long found, long liveKeys, double seconds,
              double settleSeconds, long bytes, double p50Micros, double p99Micros, double p999Micros,
              long userBytesWritten, long diskBytesWritten, long engineBytesWritten, long diskSize,
              long peakRssBytes, double openSeconds, double openCpuSeconds) {

    private static final double MIB = 1 << 20;
    private static final String FAILED = "failed: ";

    /** The row for a workload the engine cannot run. */
    static Result unsupported(Workload workload, EngineKind engine) {
        return notRun(workload, engine, "unsupported by this engine");
    }

    /** The row for a workload that failed on the engine, with the innermost cause. */
    static Result failed(Workload workload, EngineKind engine, Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return notRun(workload, engine, FAILED + cause);
    }

    private static Result notRun(Workload workload, EngineKind engine, String note) {
        return new Result(workload.id(), engine.id(), note, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, Double.NaN, Double.NaN);
    }

    boolean ran() {
        return note.isEmpty();
    }

    /** Whether the workload failed on the engine (not run because unsupported does not count). */
    boolean failed() {
        return note.startsWith(FAILED);
    }

    double opsPerSecond() {
        return ops / seconds;
    }

    double mibPerSecond() {
        return bytes / MIB / seconds;
    }

    /** Bytes written to disk per byte the workload wrote; NaN for workloads that write nothing. */
    double writeAmplification() {
        return ratio(diskBytesWritten, userBytesWritten);
    }

    /** Bytes the engine counted as written per byte the workload wrote. */
    double engineWriteAmplification() {
        return ratio(engineBytesWritten, userBytesWritten);
    }

    /** Directory size per byte of live keys and values ({@code entryBytes} each). */
    double spaceAmplification(int entryBytes) {
        return ratio(diskSize, liveKeys * entryBytes);
    }

    private static double ratio(long measured, long base) {
        return measured < 0 || base <= 0 ? Double.NaN : measured / (double) base;
    }

    /** Every field, by name, in declaration order. */
    Map<String, Object> fields() {
        Map<String, Object> fields = new LinkedHashMap<>();
        try {
            for (RecordComponent c : Result.class.getRecordComponents()) {
                fields.put(c.getName(), c.getAccessor().invoke(this));
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        return fields;
    }

    String toJson() {
        return Json.object(fields());
    }

    /** Reads a line written by {@link #toJson()}. */
    static Result fromJson(String line) {
        Map<String, String> fields = Json.parseObject(line);
        RecordComponent[] components = Result.class.getRecordComponents();
        Object[] values = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            String text = fields.get(components[i].getName());
            types[i] = components[i].getType();
            if (types[i] == long.class) {
                values[i] = Long.parseLong(text);
            } else if (types[i] == double.class) {
                values[i] = text == null ? Double.NaN : Double.parseDouble(text);
            } else {
                values[i] = text;
            }
        }
        try {
            return Result.class.getDeclaredConstructor(types).newInstance(values);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot rebuild a result from " + line, e);
        }
    }
}
