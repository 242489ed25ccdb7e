package io.trainkv.bench.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.trainkv.cache.WTinyLfuCache;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * Replays key traces through TrainKV's W-TinyLFU cache, a plain LRU and Caffeine at several
 * capacities and prints the hit rates side by side: the proof of the cache's policy, run by hand
 * ({@code java -cp bench/target/benchmarks.jar io.trainkv.bench.cache.CacheSimulator}), never in CI.
 * Every entry weighs 1, so capacities are entry counts; a miss is followed by an insert.
 */
public final class CacheSimulator {

    private static final int ACCESSES = 1_000_000;
    private static final int KEYS = 100_000;

    /** A cache under test, seen as lookups that insert on a miss. */
    private interface Policy {
        boolean access(int key);
    }

    private record Trace(String name, Supplier<IntSupplier> keys) {
    }

    private CacheSimulator() {
    }

    public static void main(String[] args) {
        List<Trace> traces = List.of(
                new Trace("zipf 0.7", () -> Traces.zipf(KEYS, 0.7, 1)),
                new Trace("zipf 0.9", () -> Traces.zipf(KEYS, 0.9, 2)),
                new Trace("zipf 1.1", () -> Traces.zipf(KEYS, 1.1, 3)),
                new Trace("zipf 0.9 + scans", () -> Traces.zipfWithScans(KEYS, 4, 50_000, 20_000)),
                new Trace("shifting hot set", () -> Traces.shifting(KEYS / 10, 5, 100_000)));
        int[] capacities = {1_000, 5_000, 20_000};
        System.out.printf(Locale.ROOT, "%-20s %9s %10s %10s %10s %12s%n", "trace", "capacity", "trainkv", "caffeine",
                "lru", "vs caffeine");
        for (Trace trace : traces) {
            for (int capacity : capacities) {
                report(trace.name(), capacity, trace.keys());
            }
        }
        for (int capacity : capacities) {
            int loopLength = capacity + capacity / 10;
            report("loop " + loopLength, capacity, () -> Traces.loop(loopLength));
        }
    }

    private static void report(String name, int capacity, Supplier<IntSupplier> keys) {
        double ours = hitRate(trainkv(capacity), keys.get());
        double caffeine = hitRate(caffeine(capacity), keys.get());
        double lru = hitRate(lru(capacity), keys.get());
        System.out.printf(Locale.ROOT, "%-20s %9d %9.2f%% %9.2f%% %9.2f%% %+11.2f pp%n", name, capacity, 100 * ours,
                100 * caffeine, 100 * lru, 100 * (ours - caffeine));
    }

    private static double hitRate(Policy policy, IntSupplier keys) {
        long hits = 0;
        for (int i = 0; i < ACCESSES; i++) {
            if (policy.access(keys.getAsInt())) {
                hits++;
            }
        }
        return hits / (double) ACCESSES;
    }

    private static Policy trainkv(int capacity) {
        WTinyLfuCache<Integer, Boolean> cache = new WTinyLfuCache<>(capacity, 1, (k, v) -> 1);
        return key -> {
            if (cache.get(key) != null) {
                return true;
            }
            cache.put(key, Boolean.TRUE);
            return false;
        };
    }

    private static Policy caffeine(int capacity) {
        Cache<Integer, Boolean> cache = Caffeine.newBuilder().maximumSize(capacity).executor(Runnable::run).build();
        return key -> {
            if (cache.getIfPresent(key) != null) {
                return true;
            }
            cache.put(key, Boolean.TRUE);
            return false;
        };
    }

    private static Policy lru(int capacity) {
        Map<Integer, Boolean> cache = new LinkedHashMap<>(capacity * 2, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, Boolean> eldest) {
                return size() > capacity;
            }
        };
        return key -> {
            if (cache.get(key) != null) {
                return true;
            }
            cache.put(key, Boolean.TRUE);
            return false;
        };
    }
}
