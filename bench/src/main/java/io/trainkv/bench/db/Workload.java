package io.trainkv.bench.db;

import java.util.Arrays;
import java.util.Locale;

/**
 * The db_bench workloads the harness knows, with the facts the runner needs about each: whether
 * it starts from an empty database, whether it reads and whether it writes. What each one does is in
 * {@link WorkloadRunner}.
 */
enum Workload {
    FILLSEQ(true, false, true),
    FILLRANDOM(true, false, true),
    OVERWRITE(false, false, true),
    READRANDOM(false, true, false),
    READMISSING(false, true, false),
    READSEQ(false, true, false),
    READREVERSE(false, true, false),
    SEEKRANDOM(false, true, false),
    READWHILEWRITING(false, true, true),
    /** YCSB workload A: 50% reads, 50% updates of present keys drawn from a scrambled Zipfian distribution. */
    YCSBA(false, true, true),
    DELETERANDOM(false, false, true),
    /**
     * The time to open a database whose WAL holds {@code --num} writes: an untimed fillrandom in
     * a first session that ends without a flush (as far as the engine's close allows), then one
     * timed operation, the open of a second session.
     */
    OPEN(true, false, false);

    private final boolean fresh;
    private final boolean reads;
    private final boolean writes;

    Workload(boolean fresh, boolean reads, boolean writes) {
        this.fresh = fresh;
        this.reads = reads;
        this.writes = writes;
    }

    /** The command-line name, as db_bench spells it. */
    String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The workload named {@code id} on the command line, ignoring case.
     *
     * @throws IllegalArgumentException if no workload has that name
     */
    static Workload fromId(String id) {
        for (Workload workload : values()) {
            if (workload.id().equalsIgnoreCase(id)) {
                return workload;
            }
        }
        throw new IllegalArgumentException("unknown benchmark '" + id + "'; benchmarks: " + Arrays.toString(values()));
    }

    /** The command-line name, so that help lists the names as they are typed. */
    @Override
    public String toString() {
        return id();
    }

    /** Whether the workload starts from an empty directory (the fills) or from the previous workload's data. */
    boolean fresh() {
        return fresh;
    }

    boolean reads() {
        return reads;
    }

    boolean writes() {
        return writes;
    }

    /** Whether {@code engine} can run this workload at all. */
    boolean supportedBy(EngineKind engine) {
        return this != READREVERSE || engine.reverseScans();
    }
}
