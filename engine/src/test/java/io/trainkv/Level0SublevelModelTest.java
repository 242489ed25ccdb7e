package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Level 0 read in sublevels must never return an older version of a key: flushes of random,
 * overlapping key ranges (cut into several tables each) pile up in level 0 with automatic and
 * forced compactions and value-log GC between them, and every get, scan and snapshot read is
 * checked against a model, across reopens, with and without mappings.
 */
class Level0SublevelModelTest {

    private static final int KEY_SPACE = 600;
    private static final int ROUNDS = 120;

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void overlappingFlushesReadNewestVersionAcrossCompactionsGcAndReopens(boolean mmap) {
        Path dir = Jimfs.newFileSystem(Configuration.unix()).getPath("/db");
        Options options = Options.at(dir).memtableSize(1 << 20).targetFileSize(4096).blockSize(512)
                .level0Triggers(6, 30, 40).baseLevelSize(64 * 1024).levelSizeMultiplier(4)
                .valueThreshold(200).valueLogFileSize(64 * 1024).gcInterval(Duration.ZERO).mmap(mmap);
        long seed = mmap ? 4711 : 4712;
        Random random = new Random(seed);
        TreeMap<ByteBuffer, byte[]> model = new TreeMap<>();
        int mostSublevels = 0;
        int collectedFiles = 0;
        TrainKV db = TrainKV.open(options);
        try {
            for (int round = 0; round < ROUNDS; round++) {
                List<Transaction> snapshots = new ArrayList<>();
                List<TreeMap<ByteBuffer, byte[]>> snapshotModels = new ArrayList<>();
                int writes = 1 + random.nextInt(4);
                for (int w = 0; w < writes; w++) {
                    int width = 1 + random.nextInt(random.nextBoolean() ? 20 : KEY_SPACE);
                    int low = random.nextInt(KEY_SPACE - width + 1);
                    int count = 1 + random.nextInt(120);
                    for (int i = 0; i < count; i++) {
                        byte[] key = key(low + random.nextInt(width));
                        if (random.nextInt(5) == 0) {
                            db.delete(key);
                            model.remove(ByteBuffer.wrap(key));
                        } else {
                            byte[] value = new byte[random.nextInt(4) == 0 ? 200 + random.nextInt(400) : random.nextInt(40)];
                            random.nextBytes(value);
                            db.set(key, value);
                            model.put(ByteBuffer.wrap(key), value);
                        }
                    }
                    if (random.nextInt(3) == 0) {
                        snapshots.add(db.snapshot());
                        snapshotModels.add(new TreeMap<>(model));
                    }
                    db.flush();
                    mostSublevels = Math.max(mostSublevels, db.level0Sublevels());
                }
                int action = random.nextInt(10);
                if (action == 0) {
                    int low = random.nextInt(KEY_SPACE);
                    db.compactRange(key(low), key(Math.min(KEY_SPACE - 1, low + random.nextInt(100))));
                } else if (action == 1) {
                    db.waitForCompactions();
                } else if (action == 2) {
                    collectedFiles += db.runValueLogGC(0.05).collectedFiles();
                }
                String where = "seed " + seed + ", round " + round;
                for (int i = 0; i < 200; i++) {
                    byte[] key = key(random.nextInt(KEY_SPACE));
                    assertArrayEquals(model.get(ByteBuffer.wrap(key)), db.get(key), where + ", key " + new String(key));
                }
                for (int s = 0; s < snapshots.size(); s++) {
                    try (Transaction snapshot = snapshots.get(s)) {
                        for (int i = 0; i < 100; i++) {
                            byte[] key = key(random.nextInt(KEY_SPACE));
                            assertArrayEquals(snapshotModels.get(s).get(ByteBuffer.wrap(key)), snapshot.get(key),
                                    where + ", snapshot " + s + ", key " + new String(key));
                        }
                    }
                }
                if (round % 10 == 9) {
                    assertScanMatches(db, model, where);
                }
                if (round % 25 == 24) {
                    db.close();
                    db = TrainKV.open(options);
                    assertScanMatches(db, model, where + " after reopen");
                }
            }
        } finally {
            db.close();
        }
        assertTrue(mostSublevels >= 3, "the workload must stack level-0 sublevels, saw at most " + mostSublevels);
        assertTrue(collectedFiles > 0, "the workload must have value-log GC collect files");
    }

    private static void assertScanMatches(TrainKV db, Map<ByteBuffer, byte[]> model, String where) {
        List<String> expected = new ArrayList<>();
        for (Map.Entry<ByteBuffer, byte[]> e : model.entrySet()) {
            expected.add(new String(e.getKey().array()) + "=" + Arrays.toString(e.getValue()));
        }
        for (IteratorOptions direction : List.of(IteratorOptions.forward(), IteratorOptions.reverse())) {
            List<String> actual = new ArrayList<>();
            try (DbIterator it = db.iterator(direction)) {
                for (it.seekToFirst(); it.valid(); it.next()) {
                    actual.add(new String(it.key()) + "=" + Arrays.toString(it.value()));
                }
            }
            if (direction.isReverse()) {
                java.util.Collections.reverse(actual);
            }
            assertEquals(expected, actual, where + (direction.isReverse() ? ", reverse scan" : ", forward scan"));
        }
    }

    private static byte[] key(int i) {
        return String.format("key-%05d", i).getBytes();
    }
}
