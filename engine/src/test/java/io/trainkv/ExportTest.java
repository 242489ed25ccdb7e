package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import io.trainkv.manifest.ManifestLog;
import io.trainkv.manifest.ManifestState;
import io.trainkv.storage.NioStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * db.export(out, since): each write once across a chain of exports, deletes included, exact at the
 * boundary; an incremental export that a compacted-away deletion would make inexact is refused.
 */
class ExportTest {

    @TempDir
    Path tempDir;

    private static Options options(Path dir) {
        return Options.at(dir).valueThreshold(64).gcInterval(java.time.Duration.ZERO);
    }

    private static byte[] export(TrainKV db, long since, long[] until) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        until[0] = db.export(out, since);
        return out.toByteArray();
    }

    private static List<ExportStream.Record> records(byte[] stream) throws IOException {
        ExportStream.Reader reader = new ExportStream.Reader(new ByteArrayInputStream(stream), "test stream");
        List<ExportStream.Record> all = new ArrayList<>();
        ExportStream.Record r;
        while ((r = reader.next()) != null) {
            all.add(r);
        }
        return all;
    }

    private static void importInto(TrainKV db, byte[] stream) throws IOException {
        ExportStream.importInto(db, new ExportStream.Reader(new ByteArrayInputStream(stream), "test stream"), 100, null);
    }

    private static String text(ExportStream.Record r) {
        return new String(r.key(), StandardCharsets.UTF_8) + (r.delete() ? " deleted" : "=" + new String(r.value(),
                StandardCharsets.UTF_8)) + " @" + r.version();
    }

    @Test
    void theReturnedVersionIsTheExactBoundaryOfTheNextExport() throws Exception {
        try (TrainKV db = TrainKV.open(options(tempDir.resolve("db")))) {
            db.set("a", "1");
            db.set("b", "2");
            db.set("c", "3");                          // the last write at or below the first boundary
            long[] first = new long[1];
            byte[] one = export(db, 0, first);
            assertEquals(db.stats().lastVersion(), first[0]);
            db.set("c", "3b");                         // version first + 1: the first write after it
            db.delete("a");
            db.set("d", "4".repeat(100));              // in the value log
            long[] second = new long[1];
            byte[] two = export(db, first[0], second);
            assertEquals(first[0] + 3, second[0]);

            assertEquals(List.of("a=1 @" + (first[0] - 2), "b=2 @" + (first[0] - 1), "c=3 @" + first[0]),
                    records(one).stream().map(ExportTest::text).toList());
            assertEquals(List.of("a deleted @" + (first[0] + 2), "c=3b @" + (first[0] + 1),
                    "d=" + "4".repeat(100) + " @" + second[0]), records(two).stream().map(ExportTest::text).toList());
            long[] third = new long[1];
            assertEquals(List.of(), records(export(db, second[0], third)), "nothing was written since");
            assertEquals(second[0], third[0]);

            try (TrainKV copy = TrainKV.open(options(tempDir.resolve("copy")))) {
                importInto(copy, one);
                assertEquals("1", copy.get("a"));
                assertEquals("3", copy.get("c"));
                importInto(copy, two);
                assertNull(copy.get("a"), "the delete is imported");
                assertEquals(BackupEngineTest.contents(db), BackupEngineTest.contents(copy));
            }
            assertThrows(IllegalArgumentException.class, () -> db.export(new ByteArrayOutputStream(), second[0] + 1));
            assertThrows(IllegalArgumentException.class, () -> db.export(new ByteArrayOutputStream(), -1));
        }
    }

    @Test
    void userMetaAndExpiryTravelWithTheValue() throws Exception {
        Instant expiry = Instant.ofEpochMilli(System.currentTimeMillis() + 3_600_000);
        try (TrainKV db = TrainKV.open(options(tempDir.resolve("db")))) {
            db.set(Entry.of("k", "v").withUserMeta((byte) 7).withExpiresAt(expiry));
            byte[] stream = export(db, 0, new long[1]);
            try (TrainKV copy = TrainKV.open(options(tempDir.resolve("copy")))) {
                importInto(copy, stream);
                Entry e = copy.getEntry("k".getBytes(StandardCharsets.UTF_8));
                assertEquals(7, e.userMeta());
                assertEquals(expiry, e.expiresAt());
            }
        }
    }

    @Test
    @Timeout(60)
    void aChainOfExportsUnderConcurrentWritesLosesAndDuplicatesNothing() throws Exception {
        List<byte[]> chain = new ArrayList<>();
        try (TrainKV db = TrainKV.open(options(tempDir.resolve("db")))) {
            ExecutorService writers = Executors.newFixedThreadPool(4);
            AtomicBoolean stop = new AtomicBoolean();
            List<Future<?>> running = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int writer = t;
                running.add(writers.submit(() -> {
                    for (long n = 0; !stop.get(); n++) {
                        String key = "k" + ((n * 31 + writer * 7) % 500);
                        if (n % 5 == 4) {
                            db.delete(key);
                        } else {
                            db.set(key, "w" + writer + "-" + n + (n % 2 == 0 ? "x".repeat(80) : ""));
                        }
                    }
                    return null;
                }));
            }
            long since = 0;
            long[] until = new long[1];
            for (int i = 0; i < 6; i++) {
                Thread.sleep(20);
                if (i == 3) {
                    db.flush();
                }
                chain.add(export(db, since, until));
                since = until[0];
            }
            stop.set(true);
            for (Future<?> f : running) {
                f.get();
            }
            writers.shutdown();
            chain.add(export(db, since, until));

            Set<String> seen = new HashSet<>();
            long previousUntil = 0;
            for (byte[] stream : chain) {
                ExportStream.Reader reader = new ExportStream.Reader(new ByteArrayInputStream(stream), "chain");
                assertEquals(previousUntil, reader.sinceVersion(), "each export starts where the last ended");
                for (ExportStream.Record r : records(stream)) {
                    assertTrue(r.version() > reader.sinceVersion() && r.version() <= reader.untilVersion(), text(r));
                    assertTrue(seen.add(new String(r.key(), StandardCharsets.UTF_8) + "@" + r.version()),
                            "exported twice: " + text(r));
                }
                previousUntil = reader.untilVersion();
            }
            try (TrainKV copy = TrainKV.open(options(tempDir.resolve("copy")))) {
                for (byte[] stream : chain) {
                    importInto(copy, stream);
                }
                Map<String, String> expected = BackupEngineTest.contents(db);
                assertFalse(expected.isEmpty());
                assertEquals(expected, BackupEngineTest.contents(copy));
            }
        }
    }

    @Test
    void aTruncatedOrDamagedStreamIsRefusedWithItsOffset() throws Exception {
        byte[] stream;
        try (TrainKV db = TrainKV.open(options(tempDir.resolve("db")))) {
            db.set("a", "1");
            db.set("b", "2");
            stream = export(db, 0, new long[1]);
        }
        byte[] truncated = java.util.Arrays.copyOf(stream, stream.length - 5);
        CorruptionException cut = assertThrows(CorruptionException.class, () -> records(truncated));
        assertTrue(cut.getMessage().contains("no end record"), cut.getMessage());
        byte[] flipped = stream.clone();
        flipped[30] ^= 1;
        CorruptionException bad = assertThrows(CorruptionException.class, () -> records(flipped));
        assertEquals("test stream", bad.fileName());
        byte[] notAStream = "key\tvalue\n".getBytes(StandardCharsets.UTF_8);
        assertFalse(ExportStream.startsWithMagic(notAStream));
        assertTrue(ExportStream.startsWithMagic(stream));
        assertArrayEquals(ExportStream.MAGIC, java.util.Arrays.copyOf(stream, 8));
    }

    /** The dropped-deletion watermark as the manifest on disk records it (0 when none). */
    private static long watermarkOnDisk(Path dir) throws IOException {
        return ManifestState.of(ManifestLog.replay(NioStorage.open(dir), Options.MAX_LEVELS).edits())
                .droppedDeletionVersion();
    }

    @Test
    void anIncrementalExportMissingACompactedAwayDeleteIsRefusedAndAFullExportIsExact() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(options(dir))) {
            db.set("a", "1");
            db.set("b", "2");
            db.flatten();                                // a and b in a table at the bottom level
            long[] first = new long[1];
            export(db, 0, first);                        // an importer now holds a=1
            db.delete("a");
            long deleteVersion = db.stats().lastVersion();
            db.set("c", "3");
            db.flatten();                                // merged into it with no snapshot: the tombstone is dropped

            ByteArrayOutputStream refused = new ByteArrayOutputStream();
            IncompleteExportException e = assertThrows(IncompleteExportException.class,
                    () -> db.export(refused, first[0]));
            assertEquals(first[0], e.sinceVersion());
            assertEquals(deleteVersion, e.droppedDeletionVersion());
            assertTrue(e.getMessage().contains("since version " + first[0]) && e.getMessage().contains("version "
                    + deleteVersion) && e.getMessage().contains("full export (since 0)"), e.getMessage());
            assertEquals(0, refused.size(), "nothing is written");
            assertEquals(deleteVersion, watermarkOnDisk(dir), "the manifest records the dropped delete");

            byte[] full = export(db, 0, new long[1]);
            try (TrainKV copy = TrainKV.open(options(tempDir.resolve("copy")))) {
                importInto(copy, full);
                assertEquals(Map.of("b", "32", "c", "33"), BackupEngineTest.contents(copy));
                assertEquals(BackupEngineTest.contents(db), BackupEngineTest.contents(copy));
            }
        }
    }

    @Test
    void aTombstoneStillPresentIsExportedAsADelete() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(options(dir))) {
            db.set("a", "1");
            db.set("b", "2");
            db.flatten();
            long[] first = new long[1];
            byte[] one = export(db, 0, first);
            db.delete("a");
            db.flush();                                  // the tombstone is in a table above the bottom level
            byte[] two = export(db, first[0], new long[1]);
            assertEquals(List.of("a deleted @" + (first[0] + 1)), records(two).stream().map(ExportTest::text).toList());
            assertEquals(0, watermarkOnDisk(dir));
            try (TrainKV copy = TrainKV.open(options(tempDir.resolve("copy")))) {
                importInto(copy, one);
                importInto(copy, two);
                assertEquals(BackupEngineTest.contents(db), BackupEngineTest.contents(copy));
            }
        }
    }

    @Test
    void theWatermarkSurvivesReopenAndAnExportSinceItOrLaterIsExact() throws Exception {
        Path dir = tempDir.resolve("db");
        long deleteVersion;
        long[] first = new long[1];
        byte[] one;
        try (TrainKV db = TrainKV.open(options(dir))) {
            db.set("a", "1");
            db.set("b", "2");
            db.flatten();
            db.delete("a");
            deleteVersion = db.stats().lastVersion();
            one = export(db, 0, first);                  // holds the delete of a: the boundary is the delete
            assertEquals(deleteVersion, first[0]);
            db.flatten();                                // merged into the bottom level: the tombstone is dropped
        }
        assertEquals(deleteVersion, watermarkOnDisk(dir));
        try (TrainKV db = TrainKV.open(options(dir))) {
            assertThrows(IncompleteExportException.class, () -> db.export(new ByteArrayOutputStream(), deleteVersion - 1));
            db.set("b", "2b");
            db.delete("b");
            db.set("c", "3");
            long[] second = new long[1];
            byte[] two = export(db, first[0], second);   // since == the watermark: exact
            assertEquals(List.of("b deleted @" + (deleteVersion + 2), "c=3 @" + second[0]),
                    records(two).stream().map(ExportTest::text).toList());
            try (TrainKV copy = TrainKV.open(options(tempDir.resolve("copy")))) {
                importInto(copy, one);
                importInto(copy, two);
                assertEquals(Map.of("c", "33"), BackupEngineTest.contents(copy));
                assertEquals(BackupEngineTest.contents(db), BackupEngineTest.contents(copy));
            }
            Path checkpoint = tempDir.resolve("checkpoint");
            db.checkpoint(checkpoint);
            assertEquals(deleteVersion, watermarkOnDisk(checkpoint), "a checkpoint's fresh manifest carries it");
        }
        assertEquals(deleteVersion, watermarkOnDisk(dir), "the snapshot edit of the manifest started at open carries it");
    }

    @Test
    void anExpiredEntryCompactedAwayIsADroppedDeletionToo() throws Exception {
        TestClock clock = new TestClock(1_000_000);
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(options(dir).clock(clock))) {
            db.set("k", "old");
            db.flatten();
            long[] first = new long[1];
            export(db, 0, first);                        // an importer now holds k=old
            db.set(Entry.of("k", "new").withExpiresAt(Instant.ofEpochMilli(1_000_500)));
            long expiringVersion = db.stats().lastVersion();
            clock.millis.set(1_001_000);
            db.flatten();                                // both versions of k are gone: the expired one hid the old
            assertNull(db.get("k"));
            assertEquals(expiringVersion, watermarkOnDisk(dir));
            IncompleteExportException e = assertThrows(IncompleteExportException.class,
                    () -> db.export(new ByteArrayOutputStream(), first[0]));
            assertEquals(expiringVersion, e.droppedDeletionVersion());
        }
    }

    @Test
    void anEntryExpiredBeforeTheExportIsADeleteEvenOnceGcCollectedItsValue() throws Exception {
        TestClock clock = new TestClock(1_000_000);
        try (TrainKV db = TrainKV.open(options(tempDir.resolve("db")).clock(clock).valueLogFileSize(64 * 1024))) {
            db.set(Entry.of("k".getBytes(StandardCharsets.UTF_8), new byte[200]).withExpiresAt(Instant.ofEpochMilli(1_000_500)));
            long expiringVersion = db.stats().lastVersion();
            for (int i = 0; i < 8; i++) {
                db.set(("other-" + i).getBytes(StandardCharsets.UTF_8), new byte[10_000]);
            }
            db.flush();
            clock.millis.set(1_001_000);
            Set<Long> sealed = new HashSet<>();
            for (Stats.ValueLogFile file : db.stats().valueLogFiles()) {
                if (!file.active()) {
                    sealed.add(file.fileId());
                }
            }
            assertFalse(sealed.isEmpty(), "k's value-log file is sealed");
            db.collectValueLogFiles(sealed);             // k's value is expired: GC keeps nothing of it

            long[] until = new long[1];
            List<ExportStream.Record> exported = records(export(db, 0, until));
            ExportStream.Record k = exported.stream().filter(r -> new String(r.key(), StandardCharsets.UTF_8).equals("k"))
                    .findFirst().orElseThrow();
            assertTrue(k.delete(), "an expired entry is exported as a delete");
            assertEquals(expiringVersion, k.version());
            try (TrainKV copy = TrainKV.open(options(tempDir.resolve("copy")))) {
                importInto(copy, export(db, 0, until));
                assertNull(copy.get("k"));
                assertEquals(BackupEngineTest.contents(db), BackupEngineTest.contents(copy));
            }
        }
    }
}
