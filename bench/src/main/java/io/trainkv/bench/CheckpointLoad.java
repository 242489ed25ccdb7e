package io.trainkv.bench;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Measures {@code TrainKV.checkpoint} under load for {@code docs/benchmarks.md}: loads N random
 * keys (16 bytes) with values of B bytes, then, while one thread keeps overwriting random keys,
 * takes a checkpoint on the database's own file system (tables and sealed value-log files
 * hard-linked) and one into a directory on another file system (everything copied), and prints
 * for each the wall time and the bytes linked and copied (a target file with more than one link
 * is counted as linked).
 *
 * <p>Run: {@code java -cp engine/target/classes:bench/target/classes io.trainkv.bench.CheckpointLoad
 * --dir DIR --other-fs DIR [--num N] [--value-size B]}; both directories must not exist.
 */
public final class CheckpointLoad {

    private CheckpointLoad() {
    }

    public static void main(String[] args) throws Exception {
        long num = 1_000_000;
        int valueSize = 1024;
        Path dir = null;
        Path otherFs = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--num" -> num = Long.parseLong(args[++i]);
                case "--value-size" -> valueSize = Integer.parseInt(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                case "--other-fs" -> otherFs = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (dir == null || otherFs == null) {
            throw new IllegalArgumentException("--dir and --other-fs are required");
        }
        try (TrainKV db = TrainKV.open(Options.at(dir.resolve("db")))) {
            long start = System.nanoTime();
            load(db, num, valueSize, null, new AtomicBoolean());
            System.out.printf(Locale.ROOT, "loaded %,d distinct keys x %d B in %.1f s%n", num, valueSize, seconds(start));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong written = new AtomicLong();
            int size = valueSize;
            long keys = num;
            Thread writer = new Thread(() -> written.set(load(db, keys, size, new SplittableRandom(2), stop)));
            writer.start();
            Thread.sleep(2_000);
            measure(db, "same file system (hard links)", dir.resolve("checkpoint-linked"));
            measure(db, "other file system (copies)", otherFs.resolve("checkpoint-copied"));
            stop.set(true);
            writer.join();
            System.out.printf(Locale.ROOT, "writer overwrote %,d keys meanwhile%n", written.get());
        }
    }

    private static void measure(TrainKV db, String what, Path target) throws IOException {
        long start = System.nanoTime();
        long version = db.checkpoint(target);
        double took = seconds(start);
        long linked = 0;
        long copied = 0;
        int files = 0;
        try (Stream<Path> all = Files.list(target)) {
            for (Path f : all.toList()) {
                files++;
                int links = (Integer) Files.getAttribute(f, "unix:nlink");
                if (links > 1) {
                    linked += Files.size(f);
                } else {
                    copied += Files.size(f);
                }
            }
        }
        System.out.printf(Locale.ROOT, "%s: version %,d, %.2f s, %d files, %,d bytes linked, %,d bytes copied%n",
                what, version, took, files, linked, copied);
    }

    /**
     * Writes {@code num} keys, or until {@code stop}; returns how many. With no {@code random}, each
     * of the {@code num} keys once in a scattered order (n times a prime modulo num), else random keys.
     */
    private static long load(TrainKV db, long num, int valueSize, SplittableRandom random, AtomicBoolean stop) {
        byte[] key = new byte[16];
        SplittableRandom values = new SplittableRandom(random == null ? 3 : 4);
        long n = 0;
        for (; n < num && !stop.get(); n++) {
            byte[] value = new byte[valueSize];
            values.nextBytes(value);
            long id = random == null ? Math.floorMod(n * 1_000_003L, num) : random.nextLong(num);
            String k = String.format(Locale.ROOT, "%016d", id);
            System.arraycopy(k.getBytes(), 0, key, 0, 16);
            db.set(key.clone(), value);
        }
        return n;
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
