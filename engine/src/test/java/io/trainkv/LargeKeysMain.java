package io.trainkv;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Child process of {@link LimitsTest}'s full-size recipe: writes 8,500 keys of 64 KiB into a
 * 600 MiB memtable, flushes, reopens and reads every key back, then writes once more. Exits 0
 * when all of it works; an exception (the flush or the open failing) exits non-zero.
 */
public final class LargeKeysMain {

    private static final int COUNT = 8_500;

    private LargeKeysMain() {
    }

    public static void main(String[] args) {
        Options options = Options.at(Path.of(args[0])).memtableSize(600L << 20);
        try (TrainKV db = TrainKV.open(options)) {
            for (int i = 0; i < COUNT; i++) {
                db.set(largeKey(i), value(i));
            }
            db.flush();
        }
        try (TrainKV db = TrainKV.open(options)) {
            for (int i = 0; i < COUNT; i++) {
                byte[] found = db.get(largeKey(i));
                if (found == null || !new String(found, StandardCharsets.UTF_8).equals("v" + i)) {
                    System.err.println("key " + i + " reads back wrong after the reopen");
                    System.exit(1);
                }
            }
            db.set("after".getBytes(StandardCharsets.UTF_8), value(0));
            db.flush();
        }
        System.exit(0);
    }

    private static byte[] value(int i) {
        return ("v" + i).getBytes(StandardCharsets.UTF_8);
    }

    /** A 64 KiB key: the number at the end, so that keys share a 64 KiB prefix but the last bytes. */
    private static byte[] largeKey(int i) {
        byte[] key = new byte[Options.MAX_KEY_SIZE];
        byte[] suffix = String.format("%08d", i).getBytes(StandardCharsets.UTF_8);
        System.arraycopy(suffix, 0, key, key.length - suffix.length, suffix.length);
        return key;
    }
}
