package io.trainkv.bench.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.trainkv.cache.WTinyLfuCache;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of TrainKV's W-TinyLFU cache against Caffeine on the OLTP block trace (ARC paper:
 * N. Megiddo and D. S. Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache", USENIX FAST
 * '03), so that policy changes that win hit rate are seen not to cost speed.
 *
 * <p>{@code readThrough} is one thread driving the cache as the table reader does (lookup, insert
 * after a miss, weight 1); {@code concurrentRead} is two threads doing lookups only on a cache
 * warmed by one pass of the trace, each thread from its own place in the trace (the read path
 * under contention: lock-free map, buffered accesses, counters). Scores are operations per
 * microsecond, summed over the threads.
 *
 * <p>Run (from the project root; the trace directory is a system property, inherited by the
 * forks): {@code scripts/bench-cache --jmh}, or
 * {@code java -Dtrainkv.traces=DIR -jar bench/target/benchmarks.jar CacheBenchmark}.
 */
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+UseG1GC"})
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
public class CacheBenchmark {

    /** The cache under test. */
    @Param({"trainkv", "caffeine"})
    public String cache;

    /** Capacity in entries. */
    @Param({"5000"})
    public int capacity;

    private Integer[] keys;
    private Access access;
    private final AtomicInteger threadStarts = new AtomicInteger();

    /** The two operations both caches offer, without boxing differences between them. */
    private interface Access {
        Boolean get(Integer key);

        void put(Integer key);
    }

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        int[] blocks = LisTrace.read(Path.of(System.getProperty("trainkv.traces", "traces")).resolve("OLTP.lis.gz"));
        keys = new Integer[blocks.length];
        for (int i = 0; i < blocks.length; i++) {
            keys[i] = blocks[i];
        }
        access = switch (cache) {
            case "trainkv" -> {
                WTinyLfuCache<Integer, Boolean> c = new WTinyLfuCache<>(capacity, 1, (k, v) -> 1);
                yield new Access() {
                    @Override
                    public Boolean get(Integer key) {
                        return c.get(key);
                    }

                    @Override
                    public void put(Integer key) {
                        c.put(key, Boolean.TRUE);
                    }
                };
            }
            case "caffeine" -> {
                Cache<Integer, Boolean> c = Caffeine.newBuilder().maximumSize(capacity).build();
                yield new Access() {
                    @Override
                    public Boolean get(Integer key) {
                        return c.getIfPresent(key);
                    }

                    @Override
                    public void put(Integer key) {
                        c.put(key, Boolean.TRUE);
                    }
                };
            }
            default -> throw new IllegalArgumentException("unknown cache: " + cache);
        };
        for (Integer key : keys) {
            if (access.get(key) == null) {
                access.put(key);
            }
        }
    }

    /** A thread's position in the trace; threads start a fraction of the trace apart. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;

        @Setup(Level.Trial)
        public void setUp(CacheBenchmark benchmark) {
            next = (int) ((long) benchmark.threadStarts.getAndIncrement() * benchmark.keys.length / 7);
        }

        Integer nextKey(Integer[] keys) {
            Integer key = keys[next];
            next = next + 1 == keys.length ? 0 : next + 1;
            return key;
        }
    }

    /** One trace access as the table reader makes it: a lookup, and an insert after a miss. */
    @Benchmark
    @Threads(1)
    public Boolean readThrough(Cursor cursor) {
        Integer key = cursor.nextKey(keys);
        Boolean value = access.get(key);
        if (value == null) {
            access.put(key);
        }
        return value;
    }

    /** A lookup only, by each of two threads. */
    @Benchmark
    @Threads(2)
    public Boolean concurrentRead(Cursor cursor) {
        return access.get(cursor.nextKey(keys));
    }
}
