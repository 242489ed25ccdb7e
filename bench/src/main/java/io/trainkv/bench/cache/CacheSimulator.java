package io.trainkv.bench.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.trainkv.cache.WTinyLfuCache;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * Replays key traces through TrainKV's W-TinyLFU cache, a plain LRU and Caffeine at several
 * capacities and prints the hit rates side by side as a Markdown table: the proof of the cache's
 * policy, run by hand ({@code scripts/bench-cache}), never in CI.
 *
 * <p>Each cache is driven as the table reader drives the block cache: one thread, a lookup, and an
 * insert after a miss; every entry weighs 1, so capacities are entry counts. Caffeine's admission
 * has a random component, so its figure is the mean of {@value #CAFFEINE_RUNS} runs; TrainKV and
 * the LRU are deterministic.
 *
 * <p>Two tables: the real block traces of the ARC paper ({@code OLTP.lis.gz}, {@code P12.lis.gz},
 * read by {@link LisTrace} from the directory given with {@code --traces}; N. Megiddo and D. S.
 * Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache", USENIX FAST '03), the default; and,
 * with {@code --synthetic}, the seeded synthetic traces of {@link Traces}.
 */
public final class CacheSimulator {

    private static final int CAFFEINE_RUNS = 5;
    private static final int SYNTHETIC_ACCESSES = 1_000_000;
    private static final int KEYS = 100_000;

    /** A cache under test, seen as lookups that insert on a miss. */
    private interface Policy {
        boolean access(int key);
    }

    /** A trace: a fresh supplier of its keys for each replay, and how many keys one replay takes. */
    private record Trace(String name, Supplier<IntSupplier> keys, int length) {
    }

    private CacheSimulator() {
    }

    /**
     * {@code [--traces DIR] [--synthetic]}: without {@code --synthetic}, replays the ARC traces
     * found in {@code DIR} (default {@code traces}); exits with status 2 on a usage error and 1
     * if a trace cannot be read.
     */
    public static void main(String[] args) {
        Path traces = Path.of("traces");
        boolean synthetic = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--synthetic" -> synthetic = true;
                case "--traces" -> {
                    if (i + 1 == args.length) {
                        usage("--traces needs a directory");
                    }
                    traces = Path.of(args[++i]);
                }
                default -> usage("unknown argument: " + args[i]);
            }
        }
        try {
            if (synthetic) {
                synthetic();
            } else {
                real(traces);
            }
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }

    private static void usage(String problem) {
        System.err.println("error: " + problem);
        System.err.println("usage: bench-cache [--traces DIR] [--synthetic]");
        System.exit(2);
    }

    private static void real(Path directory) throws IOException {
        int[][] sizes = {{250, 1_000, 5_000, 20_000}, {10_000, 50_000}};
        String[] names = {"OLTP", "P12"};
        header();
        List<Double> differences = new ArrayList<>();
        for (int t = 0; t < names.length; t++) {
            Path file = directory.resolve(names[t] + ".lis.gz");
            if (!Files.isRegularFile(file)) {
                file = directory.resolve(names[t] + ".lis");
            }
            if (!Files.isRegularFile(file)) {
                throw new IOException("no " + names[t] + ".lis.gz or " + names[t] + ".lis in " + directory);
            }
            int[] keys = LisTrace.read(file);
            Trace trace = new Trace(names[t], () -> replay(keys), keys.length);
            for (int capacity : sizes[t]) {
                differences.add(report(trace, capacity));
            }
        }
        summary(differences);
    }

    private static void synthetic() {
        List<Trace> traces = new ArrayList<>(List.of(
                new Trace("zipf 0.7", () -> Traces.zipf(KEYS, 0.7, 1), SYNTHETIC_ACCESSES),
                new Trace("zipf 0.9", () -> Traces.zipf(KEYS, 0.9, 2), SYNTHETIC_ACCESSES),
                new Trace("zipf 1.1", () -> Traces.zipf(KEYS, 1.1, 3), SYNTHETIC_ACCESSES),
                new Trace("zipf 0.9 + scans", () -> Traces.zipfWithScans(KEYS, 4, 50_000, 20_000), SYNTHETIC_ACCESSES),
                new Trace("shifting hot set", () -> Traces.shifting(KEYS / 10, 5, 100_000), SYNTHETIC_ACCESSES)));
        int[] capacities = {1_000, 5_000, 20_000};
        header();
        List<Double> differences = new ArrayList<>();
        for (Trace trace : traces) {
            for (int capacity : capacities) {
                differences.add(report(trace, capacity));
            }
        }
        for (int capacity : capacities) {
            int loopLength = capacity + capacity / 10;
            Trace loop = new Trace(String.format(Locale.ROOT, "loop %,d", loopLength), () -> Traces.loop(loopLength),
                    SYNTHETIC_ACCESSES);
            differences.add(report(loop, capacity));
        }
        summary(differences);
    }

    private static IntSupplier replay(int[] keys) {
        int[] next = {0};
        return () -> keys[next[0]++];
    }

    private static void header() {
        System.out.println("| trace | capacity | LRU | Caffeine | TrainKV | TrainKV − best |");
        System.out.println("|---|---|---|---|---|---|");
    }

    /** Prints one row; returns TrainKV's hit rate minus the better peer's, in percentage points. */
    private static double report(Trace trace, int capacity) {
        double lru = 100 * hitRate(lru(capacity), trace);
        double caffeine = 0;
        for (int run = 0; run < CAFFEINE_RUNS; run++) {
            caffeine += 100 * hitRate(caffeine(capacity), trace) / CAFFEINE_RUNS;
        }
        double ours = 100 * hitRate(trainkv(capacity), trace);
        double difference = ours - Math.max(lru, caffeine);
        System.out.printf(Locale.ROOT, "| %s | %,d | %.2f | %.2f | %.2f | %s |%n", trace.name(), capacity, lru, caffeine,
                ours, signed(difference));
        return difference;
    }

    private static void summary(List<Double> differences) {
        double sum = 0;
        double worst = Double.MAX_VALUE;
        for (double d : differences) {
            sum += d;
            worst = Math.min(worst, d);
        }
        System.out.printf(Locale.ROOT, "%nTrainKV − best: mean %s, worst %s percentage points over %d rows%n",
                signed(sum / differences.size()), signed(worst), differences.size());
    }

    private static String signed(double points) {
        String text = String.format(Locale.ROOT, "%+.2f", points);
        return text.startsWith("-") ? "−" + text.substring(1) : text;
    }

    private static double hitRate(Policy policy, Trace trace) {
        IntSupplier keys = trace.keys().get();
        long hits = 0;
        for (int i = 0; i < trace.length(); i++) {
            if (policy.access(keys.getAsInt())) {
                hits++;
            }
        }
        return hits / (double) trace.length();
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
