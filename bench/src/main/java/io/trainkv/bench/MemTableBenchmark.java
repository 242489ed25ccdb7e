package io.trainkv.bench;

import io.trainkv.memtable.MemTable;
import io.trainkv.util.ValueStruct;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Compares the engine's arena skip-list {@link MemTable} with a {@link ConcurrentSkipListMap} at
 * one million entries, for inserts and point gets.
 *
 * <p>Why: the memtable keeps its nodes, keys and values in a few large arena chunks instead of
 * millions of small objects. That should show as fewer live objects for the GC to trace and a
 * different allocation profile, so this benchmark exists to measure it against the obvious JDK
 * alternative rather than assume it. Read the time per operation together with the {@code -prof gc}
 * lines: {@code gc.alloc.rate.norm} (bytes allocated per operation), {@code gc.count} and
 * {@code gc.time}.
 *
 * <p>How to run (from the project root; takes about five minutes on two cores):
 * <pre>
 *   scripts/bench-memtable
 * </pre>
 * which builds {@code bench/target/benchmarks.jar} and runs
 * {@code java -Xmx1g -jar bench/target/benchmarks.jar MemTableBenchmark -prof gc}. Extra JMH options
 * given to the script are passed on, e.g. {@code scripts/bench-memtable -p structure=trainkv}.
 *
 * <p>Results read side by side: each benchmark ({@code insert}, {@code get}) has one row per
 * {@code structure} parameter value, {@code trainkv} (the memtable) and {@code csl} (the map).
 *
 * <p>The {@code csl} peer is a fair equivalent, not a reimplementation of the memtable:
 * <ul>
 *   <li>It is keyed by the 16-byte user key alone, ordered by {@link Arrays#compareUnsigned}, the
 *       memtable's user-key order. It stores no versions: this benchmark writes each key once at a
 *       single version, so a version suffix would change nothing but the key length.
 *   <li>It honours the memtable's ownership contract, or the comparison would flatter it: the
 *       memtable copies the caller's key and value into its arena on put and hands back a fresh
 *       value array on get ({@link ValueStruct#value()} is owned by the caller). So the peer
 *       clones the key and value on put and clones the value on get. Drop those clones to measure
 *       the bare map.
 * </ul>
 *
 * <p>Keep at least one warmup iteration when reading allocation figures: JMH runs the
 * {@link Level#Trial} setups (generating the data set, filling the structure for {@code get})
 * inside the first iteration, so the GC profiler charges their allocations to it. With
 * {@code -wi 0} the only measured iteration carries them and {@code gc.alloc.rate.norm} is
 * inflated many times over.
 *
 * <p>Every fork gets a fixed 1 GiB heap and G1 (the JDK default on server-class machines, pinned
 * so that a small machine's choice of the serial collector does not change the GC figures); add
 * {@code -jvmArgsAppend} to override. The data set is generated from a fixed seed, so every fork
 * and every run inserts and looks up the same keys in the same order.
 */
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+UseG1GC"})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
public class MemTableBenchmark {

    /** Entries per structure. */
    static final int ENTRIES = 1_000_000;
    static final int KEY_SIZE = 16;
    static final int VALUE_SIZE = 100;

    /** The one version every entry is written and read at. */
    static final long VERSION = 1;
    private static final byte PLAIN = 0;
    private static final byte NO_USER_META = 0;
    private static final long NEVER_EXPIRES = 0;
    private static final long SEED = 0x7261696e6b76L;

    @Param({"trainkv", "csl"})
    public String structure;

    /** Random 16-byte keys in insertion order; random, so insertion order is random too. */
    byte[][] keys;
    /** A distinct random 100-byte value for each key. */
    byte[][] values;

    @Setup(Level.Trial)
    public void generate() {
        if (!structure.equals("trainkv") && !structure.equals("csl")) {
            throw new IllegalArgumentException("unknown structure: " + structure);
        }
        SplittableRandom random = new SplittableRandom(SEED);
        keys = new byte[ENTRIES][];
        values = new byte[ENTRIES][];
        for (int i = 0; i < ENTRIES; i++) {
            keys[i] = randomBytes(random, KEY_SIZE);
            values[i] = randomBytes(random, VALUE_SIZE);
        }
    }

    boolean isTrainKv() {
        return structure.equals("trainkv");
    }

    static ConcurrentSkipListMap<byte[], byte[]> newMap() {
        return new ConcurrentSkipListMap<>(Arrays::compareUnsigned);
    }

    /**
     * An empty structure, new for every measured {@code insert} invocation.
     *
     * <p>{@code insert} runs in {@link Mode#SingleShotTime}, where one iteration is exactly one
     * invocation, so {@link Level#Iteration} here means "fresh before each invocation", with the
     * setup outside the timed region. That is the sound way to time a fixed batch of work that
     * consumes its state. The alternatives are worse: {@link Mode#AverageTime} with
     * {@link Level#Invocation} setup would run a variable number of 1M-insert invocations per
     * time-boxed iteration (an iteration of 1 s would hold about one, overshooting its time), and
     * JMH warns that per-invocation fixtures are only safe when invocations are long, which is
     * exactly the property SingleShotTime states directly.
     */
    @State(Scope.Benchmark)
    public static class Empty {
        MemTable memTable;
        ConcurrentSkipListMap<byte[], byte[]> map;

        @Setup(Level.Iteration)
        public void create(MemTableBenchmark data) {
            // Drop the previous iteration's structure before making the next, so at most one
            // million-entry structure is live at a time.
            memTable = null;
            map = null;
            if (data.isTrainKv()) {
                memTable = new MemTable(1);
            } else {
                map = newMap();
            }
        }

        @TearDown(Level.Iteration)
        public void check(MemTableBenchmark data) {
            // Outside the timed region: make sure every insert took effect.
            if (data.isTrainKv()) {
                long minimum = (long) ENTRIES * (KEY_SIZE + VALUE_SIZE);
                if (memTable.sizeBytes() < minimum) {
                    throw new IllegalStateException("memtable holds " + memTable.sizeBytes() + " bytes");
                }
            } else if (map.size() != ENTRIES) {
                throw new IllegalStateException("map holds " + map.size() + " entries");
            }
        }
    }

    /** A structure filled with all {@link #ENTRIES} entries once per trial, for {@code get}. */
    @State(Scope.Benchmark)
    public static class Filled {
        MemTable memTable;
        ConcurrentSkipListMap<byte[], byte[]> map;
        /**
         * Copies of every key in a shuffled order: present keys, looked up at random. They are
         * copies so that no lookup can be answered by the identity check in
         * {@link Arrays#compareUnsigned(byte[], byte[])}; the memtable never gets that shortcut.
         */
        byte[][] lookups;

        @Setup(Level.Trial)
        public void fill(MemTableBenchmark data) {
            if (data.isTrainKv()) {
                memTable = new MemTable(1);
                for (int i = 0; i < ENTRIES; i++) {
                    memTable.put(data.keys[i], VERSION, PLAIN, NO_USER_META, NEVER_EXPIRES, data.values[i]);
                }
            } else {
                map = newMap();
                for (int i = 0; i < ENTRIES; i++) {
                    map.put(data.keys[i].clone(), data.values[i].clone());
                }
            }
            lookups = new byte[ENTRIES][];
            for (int i = 0; i < ENTRIES; i++) {
                lookups[i] = data.keys[i].clone();
            }
            SplittableRandom random = new SplittableRandom(SEED + 1);
            for (int i = ENTRIES - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                byte[] t = lookups[i];
                lookups[i] = lookups[j];
                lookups[j] = t;
            }
            // The data set is no longer needed: let the GC forget it before measuring.
            data.keys = null;
            data.values = null;
        }
    }

    /** Each thread's position in {@link Filled#lookups}, cycling. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;

        int advance() {
            int i = next;
            next = i + 1 == ENTRIES ? 0 : i + 1;
            return i;
        }
    }

    /**
     * Inserts all {@link #ENTRIES} pre-generated entries into an empty structure; the score is the
     * time per insert and {@code gc.alloc.rate.norm} the bytes allocated per insert (both divided
     * by {@link OperationsPerInvocation}). Each sample is one fresh fill; see {@link Empty} for why
     * this is SingleShotTime. Five warmup fills let the JIT settle (the first is mostly
     * interpreted and OSR code).
     */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OperationsPerInvocation(ENTRIES)
    @Warmup(iterations = 5)
    @Measurement(iterations = 10)
    public Object insert(MemTableBenchmark data, Empty empty) {
        byte[][] keys = data.keys;
        byte[][] values = data.values;
        if (empty.memTable != null) {
            MemTable memTable = empty.memTable;
            for (int i = 0; i < ENTRIES; i++) {
                memTable.put(keys[i], VERSION, PLAIN, NO_USER_META, NEVER_EXPIRES, values[i]);
            }
            return memTable;
        }
        ConcurrentSkipListMap<byte[], byte[]> map = empty.map;
        for (int i = 0; i < ENTRIES; i++) {
            // The copies the memtable makes into its arena; see the class comment.
            map.put(keys[i].clone(), values[i].clone());
        }
        return map;
    }

    /**
     * Looks up one present key, chosen by cycling through a shuffled array of all keys, in a
     * structure of {@link #ENTRIES} entries. Time and allocation per get.
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @Warmup(iterations = 3, time = 5)
    @Measurement(iterations = 5, time = 5)
    public void get(Filled filled, Cursor cursor, Blackhole blackhole) {
        byte[] key = filled.lookups[cursor.advance()];
        if (filled.memTable != null) {
            blackhole.consume(filled.memTable.get(key, VERSION));
        } else {
            // The copy the memtable makes out of its arena; see the class comment.
            blackhole.consume(filled.map.get(key).clone());
        }
    }

    private static byte[] randomBytes(SplittableRandom random, int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i += 8) {
            long bits = random.nextLong();
            for (int b = 0; b < 8 && i + b < length; b++) {
                bytes[i + b] = (byte) (bits >>> (8 * b));
            }
        }
        return bytes;
    }
}
