package io.trainkv.bench.db;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One run's settings, as parsed from the command line, and the same settings turned back into
 * arguments for a child process that runs one workload on one engine.
 *
 * @param workloads  workloads in the order they run
 * @param engines    engines to compare
 * @param num        key count, and operations per workload (shared out among the threads)
 * @param ops        operations of ycsba (shared out among the threads)
 * @param keySize    bytes per key (at least 8)
 * @param valueSize  bytes per value
 * @param threads    threads running each workload (readwhilewriting adds one writer)
 * @param sync       fsync every write
 * @param seed       seed of keys, values and operation order
 * @param db         parent directory; each engine gets {@code db/<engine>}
 * @param cacheBytes block cache budget of engines that have one
 * @param heap       maximum heap of each child JVM ({@code -Xmx} value)
 * @param writeRate  puts per second of readwhilewriting's writer, 0 for as fast as it can (db_bench's
 *                   {@code --benchmark_write_rate_limit}, counted in puts)
 */
record BenchConfig(List<Workload> workloads, List<EngineKind> engines, int num, int ops, int keySize, int valueSize,
                   int threads, boolean sync, long seed, Path db, long cacheBytes, String heap,
                   int writeRate) {

    /**
     * Most threads a workload runs: each is a thread in the engine's process, and a count in the
     * millions used up the machine's threads (other processes then failed to start theirs).
     */
    static final int MAX_THREADS = 1024;

    BenchConfig {
        workloads = List.copyOf(workloads);
        engines = List.copyOf(engines);
        if (workloads.isEmpty() || engines.isEmpty()) {
            throw new IllegalArgumentException("name at least one benchmark and one engine");
        }
        atLeast("--num (and each of --sizes)", num, 1);
        atLeast("--ops", ops, 1);
        atLeast("--value-size", valueSize, 0);
        atLeast("--threads", threads, 1);
        if (threads > MAX_THREADS) {
            throw new IllegalArgumentException("--threads must be at most " + MAX_THREADS + ", got " + threads);
        }
        atLeast("--cache-size", cacheBytes, 1 << 20);
        if (Files.exists(db) && !Files.isDirectory(db)) {
            throw new IllegalArgumentException("--db " + db + " is not a directory");
        }
        if (writeRate < 0) {
            throw new IllegalArgumentException("--write-rate must be 0 (unthrottled) or more puts per second");
        }
        if (!heap.matches("[0-9]+[kKmMgGtT]?")) {
            throw new IllegalArgumentException("--heap must be a JVM heap size such as 512m or 2g, got '" + heap + "'");
        }
        if (keySize < KeySpace.MIN_KEY_SIZE) {
            throw new IllegalArgumentException("--key-size must be at least " + KeySpace.MIN_KEY_SIZE);
        }
    }

    private static void atLeast(String flag, long value, long minimum) {
        if (value < minimum) {
            throw new IllegalArgumentException(flag + " must be at least " + minimum + ", got " + value);
        }
    }

    /**
     * These settings with {@code num} keys instead; ycsba's operation count follows the key count
     * when it was the default (equal to the old key count).
     *
     * @throws IllegalArgumentException if {@code num} is below 1
     */
    BenchConfig withNum(int num) {
        return new BenchConfig(workloads, engines, num, ops == this.num ? num : ops, keySize, valueSize, threads, sync, seed, db, cacheBytes, heap, writeRate);
    }

    int entryBytes() {
        return keySize + valueSize;
    }

    KeySpace keySpace() {
        return new KeySpace(num, keySize, seed);
    }

    EngineSettings settings() {
        return new EngineSettings(sync, cacheBytes);
    }

    Path engineDir(EngineKind engine) {
        return db.resolve(engine.id());
    }

    /** The arguments that make a child process run {@code workload} on {@code engine} with these settings. */
    List<String> childArgs(Workload workload, EngineKind engine) {
        return List.of(DbBench.CHILD_FLAG,
                "--benchmarks", workload.id(), "--engine", engine.id(), "--num", Integer.toString(num), "--ops", Integer.toString(ops),
                "--key-size", Integer.toString(keySize), "--value-size", Integer.toString(valueSize),
                "--threads", Integer.toString(threads), "--sync=" + sync, "--seed", Long.toString(seed),
                "--db", db.toString(), "--cache-size", Long.toString(cacheBytes), "--heap", heap,
                "--write-rate", Integer.toString(writeRate));
    }
}
