package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.FaultInjectingStorage.Op;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Value-log GC: reclaims space, never loses or reverts a value, and survives failures at every step. */
class ValueLogGcTest {

    private static final int KEYS = 10_000;
    private static final int VALUE_SIZE = 512;

    @TempDir
    Path tempDir;

    static Options gcOptions(Path dir) {
        return ValueLogTest.separated(dir, 256).valueLogFileSize(1024 * 1024);
    }

    /** A value that names its key and round, padded to the value size. */
    static byte[] value(int key, int round) {
        ByteBuffer value = ByteBuffer.allocate(VALUE_SIZE);
        value.putInt(key).putInt(round);
        for (int i = 8; i < VALUE_SIZE; i++) {
            value.put((byte) (key * 31 + round * 7 + i));
        }
        return value.array();
    }

    static byte[] key(int i) {
        return String.format("key-%06d", i).getBytes();
    }

    /** Writes every key once per round, rounds 1 to {@code rounds}. */
    private static void overwrite(TrainKV db, int rounds) {
        for (int round = 1; round <= rounds; round++) {
            writeRound(db, round);
        }
    }

    private static void writeRound(TrainKV db, int round) {
        for (int i = 0; i < KEYS; i++) {
            db.set(key(i), value(i, round));
        }
    }

    private static void verifyAll(TrainKV db, int round) {
        for (int i = 0; i < KEYS; i++) {
            assertArrayEquals(value(i, round), db.get(key(i)), "key " + i);
        }
    }

    @Test
    void namedFilesAreCollectedWhateverTheirRatioAndNoOthers() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(gcOptions(dir).gcInterval(Duration.ZERO))) {
            writeRound(db, 1);
            db.flush();
            List<Long> sealed = db.stats().valueLogFiles().stream().filter(f -> !f.active())
                    .map(Stats.ValueLogFile::fileId).toList();
            assertTrue(sealed.size() >= 2, sealed.toString());
            long chosen = sealed.get(0);
            ValueLogGcReport report = db.collectValueLogFiles(java.util.Set.of(chosen));
            assertEquals(1, report.collectedFiles(), report.format());
            assertTrue(report.files().stream().allMatch(f -> f.fileId() == chosen && f.collected()), report.format());
            assertTrue(report.files().get(0).discardRatio() < 0.1, "a file of live data is collected when named");
            List<Long> after = db.stats().valueLogFiles().stream().map(Stats.ValueLogFile::fileId).toList();
            assertFalse(after.contains(chosen), after.toString());
            assertTrue(after.containsAll(sealed.subList(1, sealed.size())), "files not named are untouched");
            verifyAll(db, 1);
            long active = db.stats().valueLogFiles().stream().filter(Stats.ValueLogFile::active).findFirst()
                    .orElseThrow().fileId();
            IllegalArgumentException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> db.collectValueLogFiles(java.util.Set.of(active)));
            assertTrue(refused.getMessage().contains("value-log file " + active + " is not a sealed file"),
                    refused.getMessage());
        }
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            verifyAll(db, 1);
        }
    }

    @Test
    void gcReclaimsTheValueLogToWithinOneAndAHalfTimesTheLiveData() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            overwrite(db, 20);
            db.flatten();
            long before = db.stats().valueLogBytes();
            ValueLogGcReport sample = db.sampleValueLogGC(0.3);
            assertEquals(0, sample.collectedFiles(), "a sample changes nothing");
            assertEquals(before, db.stats().valueLogBytes());
            assertTrue(sample.files().stream().anyMatch(f -> f.discardRatio() > 0.9), sample.format());

            int runs = 0;
            while (true) {
                ValueLogGcReport report = db.runValueLogGC(0.3);
                runs++;
                if (report.collectedFiles() == 0) {
                    break;
                }
                db.flatten();
                assertTrue(runs < 20, "GC converges");
            }
            long live = (long) KEYS * (20 + key(0).length + VALUE_SIZE);
            long after = db.stats().valueLogBytes();
            assertTrue(after <= live * 3 / 2, "value log " + after + " bytes for " + live + " live bytes (was " + before + ")");
            verifyAll(db, 20);
        }
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            verifyAll(db, 20);
            long onDisk = 0;
            for (String name : ValueLogTest.valueLogs(dir)) {
                onDisk += Files.size(dir.resolve(name));
            }
            assertEquals(db.stats().valueLogBytes(), onDisk, "collected files are gone from the directory");
            assertTrue(onDisk <= (long) KEYS * (20 + key(0).length + VALUE_SIZE) * 3 / 2, onDisk + " bytes on disk");
        }
    }

    @Test
    @Timeout(120)
    void backgroundGcCollectsOnItsIntervalWithoutBeingAsked() throws Exception {
        Path dir = tempDir.resolve("db");
        Options options = gcOptions(dir).gcInterval(Duration.ofMillis(20)).gcDiscardRatio(0.5);
        try (TrainKV db = TrainKV.open(options)) {
            overwrite(db, 4);
            db.flatten();
            long before = db.stats().valueLogBytes();
            long live = (long) KEYS * (20 + key(0).length + VALUE_SIZE);
            while (db.stats().valueLogBytes() > Math.max(before / 2, live * 2)) {
                Thread.onSpinWait();
            }
            verifyAll(db, 4);
        }
    }

    @Test
    void anOpenIteratorKeepsACollectedFileUntilItCloses() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            overwrite(db, 3);
            db.flatten();
            try (DbIterator old = db.iterator()) {
                writeRound(db, 4);
                db.flatten();
                ValueLogGcReport report = db.runValueLogGC(0.5);
                assertTrue(report.collectedFiles() > 0, report.format());
                int count = 0;
                for (old.seekToFirst(); old.valid(); old.next()) {
                    int i = ByteBuffer.wrap(old.value()).getInt();
                    assertArrayEquals(value(i, 3), old.value(), "the iterator still reads its snapshot");
                    count++;
                }
                assertEquals(KEYS, count);
            }
            db.runValueLogGC(0.5);
            verifyAll(db, 4);
        }
    }

    @Test
    void gcRacingWithWritersAndReadersLosesNothing() throws Exception {
        Path dir = tempDir.resolve("db");
        int writers = 2;
        int perWriter = KEYS / writers;
        AtomicLongArray lastRound = new AtomicLongArray(KEYS);
        AtomicBoolean stop = new AtomicBoolean();
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            overwrite(db, 1);
            for (int i = 0; i < KEYS; i++) {
                lastRound.set(i, 1);
            }
            ExecutorService pool = Executors.newFixedThreadPool(writers + 2);
            List<Future<?>> tasks = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int first = w * perWriter;
                tasks.add(pool.submit(() -> {
                    for (int round = 2; round <= 14; round++) {
                        for (int i = first; i < first + perWriter; i++) {
                            db.set(key(i), value(i, round));
                            lastRound.set(i, round);
                        }
                    }
                    return null;
                }));
            }
            Future<?> reader = pool.submit(() -> {
                java.util.Random random = new java.util.Random(3);
                while (!stop.get()) {
                    int i = random.nextInt(KEYS);
                    long atLeast = lastRound.get(i);
                    ByteBuffer v = ByteBuffer.wrap(db.get(key(i)));
                    assertEquals(i, v.getInt(), "value belongs to its key");
                    int round = v.getInt();
                    assertTrue(round >= atLeast, "key " + i + " went back from round " + atLeast + " to " + round);
                    assertArrayEquals(value(i, round), v.array());
                }
                return null;
            });
            Future<?> collector = pool.submit(() -> {
                while (!stop.get()) {
                    db.compactRange(null, null);
                    db.runValueLogGC(0.2);
                }
                return null;
            });
            for (Future<?> t : tasks) {
                t.get(5, TimeUnit.MINUTES);
            }
            stop.set(true);
            reader.get(5, TimeUnit.MINUTES);
            collector.get(5, TimeUnit.MINUTES);
            pool.shutdown();
            db.flatten();
            db.runValueLogGC(0.2);
            verifyAll(db, 14);
        }
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            verifyAll(db, 14);
        }
    }

    /** The GC steps a fault can interrupt. */
    enum GcStep {
        REWRITE_SYNC(Op.SYNC, name -> FileNames.parseNumber(name, FileNames.Kind.WAL) >= 0),
        REWRITE_VALUE_LOG_SYNC(Op.SYNC, name -> FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG) >= 0),
        POINTER_COMMIT_IN_MANIFEST(Op.APPEND, name -> FileNames.parseManifest(name) >= 0),
        DELETE_COLLECTED_FILE(Op.DELETE, name -> FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG) >= 0);

        final Op op;
        final Predicate<String> files;

        GcStep(Op op, Predicate<String> files) {
            this.op = op;
            this.files = files;
        }
    }

    @ParameterizedTest
    @EnumSource(GcStep.class)
    void aFailureAtAnyGcStepThenReopenKeepsEveryLatestValue(GcStep step) throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        Options options = gcOptions(dir).storage(storage);
        boolean failed = false;
        try (TrainKV db = TrainKV.open(options)) {
            overwrite(db, 4);
            db.flatten();
            storage.hook = FaultInjectingStorage.failNth(step.op, step.files, 1);
            try {
                ValueLogGcReport report = db.runValueLogGC(0.5);
                assertTrue(report.collectedFiles() > 0, report.format());
            } catch (StorageException e) {
                failed = true;
            }
            verifyAll(db, 4);
        } catch (StorageException e) {
            failed = true;
        }
        assertTrue(failed || step == GcStep.DELETE_COLLECTED_FILE,
                step + ": the fault surfaced (a failed delete is only logged, and retried at open)");
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            verifyAll(db, 4);
            db.runValueLogGC(0.5);
            db.flatten();
            db.runValueLogGC(0.5);
            verifyAll(db, 4);
            assertFalse(db.stats().valueLogFiles().isEmpty());
        }
    }
}
