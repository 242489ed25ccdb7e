package io.trainkv.bench;

import io.trainkv.Options;
import io.trainkv.Stats;
import io.trainkv.TrainKV;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Loads N random keys (16 bytes) with 100-byte values into a fresh database (default options unless
 * sizes are given),
 * waits for compaction to settle, and prints the level shape, each level against its target, and
 * the write amplification: the figure {@code docs/benchmarks.md} records for the LSM tree.
 *
 * <p>Run: {@code scripts/bench-level-shape [--num N] [--value-size B] [--dir DIR] [--seed S]
 * [--memtable-mib M] [--base-level-mib M] [--target-file-mib M]}.
 */
public final class LevelShapeLoad {

    private LevelShapeLoad() {
    }

    public static void main(String[] args) throws IOException {
        long num = 1_000_000;
        int valueSize = 100;
        long seed = 1;
        Path dir = null;
        Options options;
        long memtableMiB = 0;
        long baseLevelMiB = 0;
        long targetFileMiB = 0;
        int valueThreshold = -1;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--memtable-mib" -> memtableMiB = Long.parseLong(args[++i]);
                case "--base-level-mib" -> baseLevelMiB = Long.parseLong(args[++i]);
                case "--target-file-mib" -> targetFileMiB = Long.parseLong(args[++i]);
                case "--value-threshold" -> valueThreshold = Integer.parseInt(args[++i]);
                case "--num" -> num = Long.parseLong(args[++i]);
                case "--value-size" -> valueSize = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: LevelShapeLoad [--num N] [--value-size B] [--seed S] [--dir DIR]"
                            + " [--memtable-mib M] [--base-level-mib M] [--target-file-mib M] [--value-threshold B]");
                    System.exit(2);
                }
            }
        }
        boolean temporary = dir == null;
        if (temporary) {
            dir = Files.createTempDirectory("trainkv-level-shape-");
        }
        SplittableRandom random = new SplittableRandom(seed);
        byte[] key = new byte[16];
        byte[] value = new byte[valueSize];
        long start = System.nanoTime();
        options = Options.at(dir);
        if (memtableMiB > 0) {
            options.memtableSize(memtableMiB << 20);
        }
        if (baseLevelMiB > 0) {
            options.baseLevelSize(baseLevelMiB << 20);
        }
        if (targetFileMiB > 0) {
            options.targetFileSize(targetFileMiB << 20);
        }
        if (valueThreshold >= 0) {
            options.valueThreshold(valueThreshold);
        }
        try (TrainKV db = TrainKV.open(options)) {
            for (long i = 0; i < num; i++) {
                fill(random, key);
                fill(random, value);
                db.set(key.clone(), value.clone());
                if ((i + 1) % 100_000 == 0) {
                    System.err.printf(Locale.ROOT, "\rloaded %,d of %,d", i + 1, num);
                }
            }
            long loaded = System.nanoTime();
            db.waitForCompactions();
            long settled = System.nanoTime();
            Stats stats = db.stats();
            System.err.println();
            System.out.printf(Locale.ROOT, "%,d random keys (16 B) with %d-byte values, seed %d%n", num, valueSize, seed);
            System.out.printf(Locale.ROOT, "load %.1f s (%,.0f writes/s), compaction settled after %.1f s more%n",
                    (loaded - start) / 1e9, num / ((loaded - start) / 1e9), (settled - loaded) / 1e9);
            System.out.print(stats.format());
            long userBytes = num * (key.length + (long) valueSize);
            long diskBytes = stats.walBytes() + stats.flushedBytes() + stats.compactionWriteBytes() + stats.valueLogBytes();
            System.out.printf(Locale.ROOT, "value threshold %d B: %,d bytes written to disk for %,d user bytes:"
                    + " write amplification %.2f (WAL %,d, tables %,d, value log %,d)%n",
                    options.valueThreshold(), diskBytes, userBytes, diskBytes / (double) userBytes, stats.walBytes(),
                    stats.flushedBytes() + stats.compactionWriteBytes(), stats.valueLogBytes());
            for (Stats.LevelStats level : stats.levels()) {
                if (level.targetBytes() > 0 && level.level() < stats.levels().size() - 1) {
                    System.out.printf(Locale.ROOT, "L%d at %.0f%% of its target%n", level.level(),
                            100.0 * level.bytes() / level.targetBytes());
                }
            }
        } finally {
            if (temporary) {
                try (Stream<Path> paths = Files.walk(dir)) {
                    for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    private static void fill(SplittableRandom random, byte[] bytes) {
        for (int i = 0; i < bytes.length; i += 8) {
            long bits = random.nextLong();
            for (int j = i; j < Math.min(bytes.length, i + 8); j++) {
                bytes[j] = (byte) bits;
                bits >>>= 8;
            }
        }
    }
}
