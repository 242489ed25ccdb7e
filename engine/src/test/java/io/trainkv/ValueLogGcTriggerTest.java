package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.FileNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Value-log GC started by discard statistics ({@link ValueLogGcTrigger}): sustained overwrites
 * keep the value log near the live data with the interval timer out of the picture, and writes
 * that leave no garbage start no GC.
 */
class ValueLogGcTriggerTest {

    private static final int KEYS = 1_000;
    private static final int ROUNDS = 20;

    @TempDir
    Path tempDir;

    /** Small memtables, tables and value-log files; the GC interval is far beyond the test's life. */
    private static Options options(Path dir) {
        return ValueLogTest.separated(dir, 256).valueLogFileSize(256 * 1024).gcInterval(Duration.ofDays(1));
    }

    private static long valueLogBytesOnDisk(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> FileNames.parseNumber(p.getFileName().toString(), FileNames.Kind.VALUE_LOG) >= 0)
                    .mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static String listing(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName() + "=" + p.toFile().length()).sorted().toList().toString();
        }
    }

    @Test
    void sustainedOverwritesTriggerGcByDiscardStatistics() throws Exception {
        Path dir = tempDir.resolve("db");
        long runs;
        String stats;
        try (TrainKV db = TrainKV.open(options(dir))) {
            for (int round = 1; round <= ROUNDS; round++) {
                for (int i = 0; i < KEYS; i++) {
                    db.set(ValueLogGcTest.key(i), ValueLogGcTest.value(i, round));
                }
            }
            db.waitForCompactions();
            runs = db.valueLogGcTrigger().runs();
            List<Stats.ValueLogFile> files = db.stats().valueLogFiles();
            stats = files.toString();
            // waitForCompactions() also waits for the GC that the last flush or compaction queued
            assertTrue(files.stream().noneMatch(f -> !f.active() && f.discardBytes() >= 0.5 * f.bytes()),
                    "no sealed file is left at the discard ratio: " + stats);
            for (int i = 0; i < KEYS; i++) {
                assertArrayEquals(ValueLogGcTest.value(i, ROUNDS), db.get(ValueLogGcTest.key(i)));
            }
        }
        long written = (long) ROUNDS * KEYS * ValueLogGcTest.value(0, 0).length;
        long live = (long) KEYS * ValueLogGcTest.value(0, 0).length;
        long onDisk = valueLogBytesOnDisk(dir);
        assertTrue(runs > 0, "flushes and compactions started GC");
        // at the 0.5 discard ratio a sealed file holds at most about as much garbage as live data;
        // add the active file (256 KiB) and the garbage compaction has not yet counted
        assertTrue(onDisk < 4 * live, "value log of " + onDisk + " bytes for " + live + " live bytes (" + written
                + " written) stats " + stats + " disk " + listing(dir) + " runs " + runs);
        try (TrainKV db = TrainKV.open(options(dir))) {
            for (int i = 0; i < KEYS; i++) {
                assertArrayEquals(ValueLogGcTest.value(i, ROUNDS), db.get(ValueLogGcTest.key(i)));
            }
        }
    }

    @Test
    void writesThatLeaveNoGarbageStartNoGc() throws Exception {
        try (TrainKV db = TrainKV.open(options(tempDir.resolve("db")))) {
            for (int i = 0; i < 5 * KEYS; i++) {
                db.set(ValueLogGcTest.key(i), ValueLogGcTest.value(i, 1));
            }
            db.waitForCompactions();
            assertTrue(db.stats().valueLogFiles().size() > 3, "several sealed files, none with garbage");
            assertEquals(0, db.valueLogGcTrigger().runs());
        }
    }
}
