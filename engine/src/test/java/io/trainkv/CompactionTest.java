package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Leveled compaction: data survives many flushes and compactions across levels, and the shape holds. */
class CompactionTest {

    @TempDir
    Path tempDir;

    /** Small sizes so that a few megabytes of data spread over several levels. */
    static Options smallTree(Path dir) {
        return Options.at(dir).memtableSize(64 * 1024).baseLevelSize(64 * 1024).levelSizeMultiplier(4)
                .targetFileSize(32 * 1024).blockSize(1024);
    }

    private static byte[] key(int i) {
        return String.format("key-%07d", i).getBytes();
    }

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void randomWritesThroughManyCompactionsMatchAModel(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        long seed = 77 + fs.ordinal();
        Random random = new Random(seed);
        TreeMap<ByteBuffer, byte[]> model = new TreeMap<>();
        int keySpace = 20_000;
        TrainKV db = TrainKV.open(smallTree(dir));
        try {
            for (int op = 1; op <= 150_000; op++) {
                byte[] key = key(random.nextInt(keySpace));
                if (random.nextInt(10) < 7) {
                    byte[] value = new byte[60 + random.nextInt(80)];
                    random.nextBytes(value);
                    db.set(key, value);
                    model.put(ByteBuffer.wrap(key), value);
                } else {
                    db.delete(key);
                    model.remove(ByteBuffer.wrap(key));
                }
                if (op == 75_000) {
                    db.close();
                    db = TrainKV.open(smallTree(dir));
                    verify(db, model, keySpace, seed);
                }
            }
            db.waitForCompactions();
            Stats stats = db.stats();
            int nonEmptyDeepLevels = 0;
            for (Stats.LevelStats level : stats.levels().subList(1, stats.levels().size())) {
                if (level.tables() > 0) {
                    nonEmptyDeepLevels++;
                }
            }
            assertTrue(nonEmptyDeepLevels >= 3, "data spread over at least three levels below L0: " + stats.levels());
            assertTrue(stats.compactions() > 10, "many compactions: " + stats.compactions());
            assertTrue(stats.compactionWriteBytes() > 0 && stats.writeAmplification() > 1, stats.toString());
            assertShapeWithinTargets(db);
            verify(db, model, keySpace, seed);
        } finally {
            db.close();
        }
        try (TrainKV reopened = TrainKV.open(smallTree(dir))) {
            verify(reopened, model, keySpace, seed);
        }
    }

    static void assertShapeWithinTargets(TrainKV db) {
        Stats stats = db.stats();
        int bottom = stats.levels().size() - 1;
        assertTrue(db.level0Sublevels() < 4, "level 0 sublevels below the compaction trigger: " + db.level0Sublevels());
        assertTrue(stats.levels().get(0).bytes() < 4 * 64 * 1024,
                "level 0 below the trigger times the base level size: " + stats.levels());
        for (Stats.LevelStats level : stats.levels().subList(1, bottom)) {
            if (level.targetBytes() == 0) {
                assertEquals(0, level.tables(), "levels above the base level stay empty: " + stats.levels());
            } else {
                assertTrue(level.bytes() <= level.targetBytes(), "level within its target: " + level);
            }
        }
    }

    private static void verify(TrainKV db, TreeMap<ByteBuffer, byte[]> model, int keySpace, long seed) {
        for (int i = 0; i < keySpace; i++) {
            byte[] expected = model.get(ByteBuffer.wrap(key(i)));
            byte[] actual = db.get(key(i));
            if (expected == null) {
                assertNull(actual, "seed " + seed + ": deleted key " + i + " came back");
            } else {
                assertArrayEquals(expected, actual, "seed " + seed + ": key " + i);
            }
        }
    }

    @Test
    void whenTheTreeShrinksNewerDataNeverLandsBelowOlderData() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(smallTree(dir).compactionThreads(2))) {
            for (int round = 1; round <= 3; round++) {
                for (int i = 0; i < 20_000; i++) {
                    db.set(key(i), ("round-" + round + "-" + i + "-").repeat(4).getBytes());
                }
                db.waitForCompactions();
                for (int i = 0; i < 20_000; i++) {
                    if (i % 20 != 0) {
                        db.delete(key(i));
                    }
                }
                db.waitForCompactions();
                for (int i = 0; i < 20_000; i += 20) {
                    db.set(key(i), ("final-" + round + "-" + i).getBytes());
                }
                db.waitForCompactions();
                for (int i = 0; i < 20_000; i++) {
                    byte[] value = db.get(key(i));
                    if (i % 20 == 0) {
                        assertArrayEquals(("final-" + round + "-" + i).getBytes(), value, "round " + round + " key " + i);
                    } else {
                        assertNull(value, "round " + round + " key " + i);
                    }
                }
                assertShapeWithinTargets(db);
            }
        }
    }

    /**
     * A scripted growth, two flushes per level-0 compaction: level 0 into the bottom twice (the
     * bottom then passes the 64 KiB base level size, so level 1 becomes the base level), into the
     * empty level 1, and then level 0 plus level 1 would leave level 1 as large as the bottom: that
     * compaction passes through level 1 into the bottom, written once, with overwrites and deletes
     * of keys in every level resolved newest first.
     */
    @Test
    void aLevel0CompactionPassesThroughABaseLevelAsLargeAsTheBottom() throws Exception {
        Path dir = tempDir.resolve("db");
        Options options = Options.at(dir).memtableSize(64 * 1024).baseLevelSize(64 * 1024).maxLevels(3)
                .level0Triggers(2, 8, 12).blockSize(1024);
        Random random = new Random(5);
        TreeMap<ByteBuffer, byte[]> model = new TreeMap<>();
        Set<ByteBuffer> deleted = new HashSet<>();
        int keySpace = 1_000_000;
        try (TrainKV db = TrainKV.open(options)) {
            long writtenBeforeLast = 0;
            for (int round = 1; round <= 4; round++) {
                for (int flush = 0; flush < 2; flush++) {
                    for (int i = 0; i < 200; i++) {
                        byte[] key = key(random.nextInt(keySpace));
                        if (round == 4 && i % 4 == 0) { // a key written before, most in level 1 or 2
                            ByteBuffer older = model.ceilingKey(ByteBuffer.wrap(key));
                            key = (older == null ? model.firstKey() : older).array();
                            if (i % 8 == 0) {
                                db.delete(key);
                                model.remove(ByteBuffer.wrap(key));
                                deleted.add(ByteBuffer.wrap(key));
                                continue;
                            }
                        }
                        byte[] value = new byte[80];
                        random.nextBytes(value);
                        db.set(key, value);
                        model.put(ByteBuffer.wrap(key), value);
                    }
                    db.flush();
                }
                db.waitForCompactions();
                Stats stats = db.stats();
                assertEquals(round, stats.compactions(), "one level-0 compaction per round: " + stats.levels());
                if (round == 3) {
                    assertTrue(stats.levels().get(1).tables() > 0, "round 3 stops in the base level: " + stats.levels());
                    writtenBeforeLast = stats.compactionWriteBytes();
                }
            }
            Stats stats = db.stats();
            assertEquals(0, stats.levels().get(0).tables(), stats.levels().toString());
            assertEquals(0, stats.levels().get(1).tables(), "the base level passed through: " + stats.levels());
            assertEquals(writtenBeforeLast + stats.levels().get(2).bytes(), stats.compactionWriteBytes(),
                    "the last compaction wrote the bottom level once and nothing else");
            for (var entry : model.entrySet()) {
                assertArrayEquals(entry.getValue(), db.get(entry.getKey().array()));
            }
            for (ByteBuffer key : deleted) {
                if (!model.containsKey(key)) {
                    assertNull(db.get(key.array()), "a deleted key came back");
                }
            }
        }
    }

    @Test
    void flattenMovesEverythingToTheBottomAndDropsTombstonesAndExpiredEntries() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(smallTree(dir))) {
            for (int i = 0; i < 20_000; i++) {
                db.set(key(i), new byte[100]);
            }
            for (int i = 0; i < 20_000; i += 2) {
                db.delete(key(i));
            }
            for (int i = 1; i < 2_000; i += 2) {
                db.set(Entry.of(key(i), new byte[100]).withExpiresAt(java.time.Instant.ofEpochMilli(1)));
            }
            db.flatten();
            Stats stats = db.stats();
            int bottom = stats.levels().size() - 1;
            for (int level = 0; level < bottom; level++) {
                assertEquals(0, stats.levels().get(level).tables(), "flatten leaves only the bottom level: " + stats.levels());
            }
            long liveKeys = 20_000 / 2 - 1_000;
            long bottomBytes = stats.levels().get(bottom).bytes();
            assertTrue(bottomBytes < liveKeys * 160, "tombstones, expired entries and old versions are gone: "
                    + bottomBytes + " bytes for " + liveKeys + " live keys");
            for (int i = 0; i < 20_000; i++) {
                boolean live = i % 2 == 1 && i >= 2_000;
                assertEquals(live, db.get(key(i)) != null, "key " + i);
            }
        }
    }

    @Test
    void compactRangeCompactsOnlyTheTablesOfTheRange() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(smallTree(dir).level0Triggers(100, 200, 300))) {
            for (int i = 0; i < 5_000; i++) {
                db.set(key(i), new byte[100]);
            }
            db.flush();
            int level0Before = db.stats().levels().get(0).tables();
            assertTrue(level0Before > 1, db.stats().levels().toString());
            db.compactRange(key(0), key(10));
            Stats stats = db.stats();
            assertEquals(0, stats.levels().get(0).tables(), "level 0 tables all overlap the range: they all go");
            assertEquals(stats.levels().get(stats.levels().size() - 1).tables() > 0, true);
            for (int i = 0; i < 5_000; i++) {
                assertArrayEquals(new byte[100], db.get(key(i)));
            }
        }
    }

    @Test
    void writersStopAtTheLevel0StopTriggerUntilCompactionCatchesUp() throws Exception {
        Path dir = tempDir.resolve("db");
        Options options = smallTree(dir).level0Triggers(2, 3, 4);
        try (TrainKV db = TrainKV.open(options)) {
            for (int i = 0; i < 30_000; i++) {
                db.set(key(i * 7_919 % 30_000), new byte[100]); // a permutation: every flush overlaps the last
            }
            db.waitForCompactions();
            assertTrue(db.level0Sublevels() < 4, "sublevels: " + db.level0Sublevels());
            for (int i = 0; i < 30_000; i += 101) {
                assertArrayEquals(new byte[100], db.get(key(i)));
            }
        }
    }

    @Test
    void aTtlEntryExpiresAcrossCompactionsAndNeverResurrectsAnOlderValue() throws Exception {
        Path dir = tempDir.resolve("db");
        TestClock clock = new TestClock(1_000_000);
        java.util.concurrent.atomic.AtomicLong now = clock.millis;
        try (TrainKV db = TrainKV.open(smallTree(dir).clock(clock))) {
            db.set("k", "old");
            db.flatten();
            db.set(Entry.of("k", "new").withTtl(Duration.ofSeconds(5)));
            db.flush();
            assertEquals("new", db.get("k"));
            now.addAndGet(6_000);
            assertNull(db.get("k"));
            db.flatten();
            assertNull(db.get("k"), "the expired entry hides the older value until both are gone");
        }
    }
}
