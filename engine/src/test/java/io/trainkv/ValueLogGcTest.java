package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.FaultInjectingStorage.Op;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntUnaryOperator;
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

    /** Bytes of one entry of {@link #writeRound}: header, key, value. */
    private static final int ENTRY = 20 + 10 + VALUE_SIZE;

    private static List<Long> sealedFiles(TrainKV db) {
        return db.stats().valueLogFiles().stream().filter(f -> !f.active()).map(Stats.ValueLogFile::fileId).toList();
    }

    private static List<Long> allFiles(TrainKV db) {
        return db.stats().valueLogFiles().stream().map(Stats.ValueLogFile::fileId).toList();
    }

    /** Index of the key whose entry starts at {@code offset} of a value-log file, read from the file. */
    private static int keyAt(Path log, long offset) throws Exception {
        byte[] bytes = Files.readAllBytes(log);
        String key = new String(bytes, (int) offset + 20, 10, StandardCharsets.US_ASCII);
        assertTrue(key.startsWith("key-"), key);
        return Integer.parseInt(key.substring(4));
    }

    /** Every key reads its round's value but {@code damaged}, whose read reports the damage at {@code offset} of {@code log}. */
    private static void verifyAllBut(TrainKV db, IntUnaryOperator round, int damaged, String log, long offset) {
        for (int i = 0; i < KEYS; i++) {
            if (i == damaged) {
                CorruptionException e = assertThrows(CorruptionException.class, () -> db.get(key(damaged)));
                assertEquals(log, e.fileName());
                assertEquals(offset, e.offset(), e.getMessage());
            } else {
                assertArrayEquals(value(i, round.applyAsInt(i)), db.get(key(i)), "key " + i);
            }
        }
    }

    /** Round 1 for every key, then round 2 for the even ones, all in tables; returns the files of round 1. */
    private static List<Long> writeHalfDeadFiles(Path dir) {
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            writeRound(db, 1);
            db.flush();
            List<Long> roundOne = sealedFiles(db);
            for (int i = 0; i < KEYS; i += 2) {
                db.set(key(i), value(i, 2));
            }
            db.flatten();
            return roundOne;
        }
    }

    private static final IntUnaryOperator EVEN_KEYS_IN_ROUND_TWO = i -> i % 2 == 0 ? 2 : 1;

    @Test
    void aFileDamagedInTheMiddleIsNotCollectedWhenNamedAndEveryValueAfterTheDamageStillReads() throws Exception {
        Path dir = tempDir.resolve("db");
        long damaged;
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            writeRound(db, 1);
            db.flush();
            damaged = sealedFiles(db).get(0);
        }
        String log = FileNames.name(damaged, FileNames.Kind.VALUE_LOG);
        long size = Files.size(dir.resolve(log));
        long damageOffset = size / 2 / ENTRY * ENTRY;
        int damagedKey = keyAt(dir.resolve(log), damageOffset);
        ValueLogTest.flipByte(dir.resolve(log), size / 2);
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            CorruptionException e = assertThrows(CorruptionException.class,
                    () -> db.collectValueLogFiles(Set.of(damaged)));
            assertEquals(log, e.fileName());
            assertEquals(damageOffset, e.offset(), e.getMessage());
            assertTrue(e.getMessage().contains("a sound entry follows at offset " + (damageOffset + ENTRY)),
                    e.getMessage());
            assertTrue(allFiles(db).contains(damaged), "the damaged file is kept");
            assertTrue(Files.exists(dir.resolve(log)));
            verifyAllBut(db, i -> 1, damagedKey, log, damageOffset);
            int count = 0;
            try (DbIterator it = db.iterator()) {
                for (it.seekToFirst(); it.valid(); it.next()) {
                    if (!Arrays.equals(it.key(), key(damagedKey))) {
                        assertArrayEquals(value(count, 1), it.value(), it.keyAsString());
                    }
                    count++;
                }
            }
            assertEquals(KEYS, count);
        }
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            verifyAllBut(db, i -> 1, damagedKey, log, damageOffset);
        }
    }

    @Test
    void runValueLogGcCollectsTheOtherEligibleFilesThenReportsTheDamagedOne() throws Exception {
        Path dir = tempDir.resolve("db");
        List<Long> roundOne = writeHalfDeadFiles(dir);
        assertTrue(roundOne.size() >= 3, roundOne.toString());
        long damaged = roundOne.get(1);
        String log = FileNames.name(damaged, FileNames.Kind.VALUE_LOG);
        long size = Files.size(dir.resolve(log));
        long damageOffset = size / 2 / ENTRY * ENTRY;
        int damagedKey = keyAt(dir.resolve(log), damageOffset);
        ValueLogTest.flipByte(dir.resolve(log), size / 2);
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            CorruptionException e = assertThrows(CorruptionException.class, () -> db.runValueLogGC(0.3));
            assertEquals(log, e.fileName());
            assertEquals(damageOffset, e.offset(), e.getMessage());
            List<Long> after = allFiles(db);
            assertTrue(after.contains(damaged), "the damaged file is kept: " + after);
            for (long id : roundOne) {
                assertTrue(id == damaged || !after.contains(id), "the other half-dead files are collected: " + after);
            }
            verifyAllBut(db, EVEN_KEYS_IN_ROUND_TWO, damagedKey, log, damageOffset);
            assertThrows(CorruptionException.class, () -> db.runValueLogGC(0.3), "refused again");
        }
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            verifyAllBut(db, EVEN_KEYS_IN_ROUND_TWO, damagedKey, log, damageOffset);
        }
    }

    @Test
    @Timeout(120)
    void automaticGcSkipsADamagedFileAndKeepsCollectingTheOthers() throws Exception {
        Path dir = tempDir.resolve("db");
        List<Long> roundOne = writeHalfDeadFiles(dir);
        long damaged = roundOne.get(0);
        String log = FileNames.name(damaged, FileNames.Kind.VALUE_LOG);
        long size = Files.size(dir.resolve(log));
        long damageOffset = size / 2 / ENTRY * ENTRY;
        int damagedKey = keyAt(dir.resolve(log), damageOffset);
        ValueLogTest.flipByte(dir.resolve(log), size / 2);
        try (TrainKV db = TrainKV.open(gcOptions(dir).gcInterval(Duration.ofMillis(20)).gcDiscardRatio(0.3))) {
            // the damaged file is the first one GC meets; the files after it are collected all the same
            while (allFiles(db).stream().anyMatch(id -> id != damaged && roundOne.contains(id))) {
                Thread.sleep(10);
            }
            long examined = db.stats().valueLogGcFilesExamined();
            while (db.stats().valueLogGcFilesExamined() < examined + 10) { // later runs skip it too
                Thread.sleep(10);
            }
            assertTrue(allFiles(db).contains(damaged), "the damaged file is kept");
            verifyAllBut(db, EVEN_KEYS_IN_ROUND_TWO, damagedKey, log, damageOffset);
            CorruptionException e = assertThrows(CorruptionException.class,
                    () -> db.collectValueLogFiles(Set.of(damaged)), "asked for, it is reported");
            assertEquals(damageOffset, e.offset(), e.getMessage());
        }
    }

    @Test
    void aTornTailThatNoLiveValueReachesIsCollectedWithTheEntriesBeforeIt() throws Exception {
        Path dir = tempDir.resolve("db");
        long torn;
        int lastKey;
        Path file;
        long size;
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            writeRound(db, 1);
            db.flush();
            torn = sealedFiles(db).get(0);
            file = dir.resolve(FileNames.name(torn, FileNames.Kind.VALUE_LOG));
            size = Files.size(file);
            lastKey = keyAt(file, size - ENTRY);
            db.set(key(lastKey), value(lastKey, 2)); // the entry the tear cuts is dead
            db.flatten();
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size - 100);
        }
        IntUnaryOperator round = i -> i == lastKey ? 2 : 1;
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            ValueLogGcReport report = db.collectValueLogFiles(Set.of(torn));
            assertEquals(1, report.collectedFiles(), report.format());
            assertFalse(allFiles(db).contains(torn));
            verifyAllBut(db, round, -1, null, 0);
        }
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            assertFalse(Files.exists(file), "collected");
            verifyAllBut(db, round, -1, null, 0);
        }
    }

    @Test
    void aTornTailUnderALiveValueIsNotCollected() throws Exception {
        Path dir = tempDir.resolve("db");
        long torn;
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            writeRound(db, 1);
            db.flush();
            torn = sealedFiles(db).get(0);
        }
        String log = FileNames.name(torn, FileNames.Kind.VALUE_LOG);
        Path file = dir.resolve(log);
        long size = Files.size(file);
        long tailOffset = size - ENTRY;
        int lastKey = keyAt(file, tailOffset);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(100), size - 100); // zeros, as a file system may leave them
        }
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            CorruptionException e = assertThrows(CorruptionException.class,
                    () -> db.collectValueLogFiles(Set.of(torn)));
            assertEquals(log, e.fileName());
            assertEquals(tailOffset, e.offset(), e.getMessage());
            assertTrue(e.getMessage().contains("a live value at offset " + tailOffset), e.getMessage());
            assertTrue(allFiles(db).contains(torn), "the file is kept");
            verifyAllBut(db, i -> 1, lastKey, log, tailOffset);
            db.set(key(lastKey), value(lastKey, 2)); // now no live value reaches the damage: a torn tail
            assertEquals(1, db.collectValueLogFiles(Set.of(torn)).collectedFiles());
            verifyAllBut(db, i -> i == lastKey ? 2 : 1, -1, null, 0);
        }
    }

    @Test
    @Timeout(60)
    void aKeyWhoseNewestValueIsInACollectedFileIsCorruptionNotAHang() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(gcOptions(dir))) {
            writeRound(db, 1);
            db.flush();
            long lost = sealedFiles(db).get(0);
            String log = FileNames.name(lost, FileNames.Kind.VALUE_LOG);
            // what collecting a file without moving its live values (B1) left behind
            db.valueLog().retire(lost, 0);
            db.valueLog().deleteRetired(Long.MAX_VALUE);
            CorruptionException e = assertThrows(CorruptionException.class, () -> db.get(key(0)));
            assertEquals(log, e.fileName());
            assertEquals(0, e.offset());
            assertTrue(e.getMessage().contains("value log " + log
                    + " was collected but the newest version of a key still points into it"), e.getMessage());
            try (DbIterator it = db.iterator()) {
                it.seekToFirst();
                assertArrayEquals(key(0), it.key());
                CorruptionException fromIterator = assertThrows(CorruptionException.class, it::value);
                assertEquals(log, fromIterator.fileName());
                assertEquals(0, fromIterator.offset());
            }
            try (Transaction txn = db.newTransaction(false)) {
                CorruptionException fromTxn = assertThrows(CorruptionException.class, () -> txn.get(key(0)));
                assertEquals(log, fromTxn.fileName());
                assertEquals(0, fromTxn.offset());
            }
            assertArrayEquals(value(KEYS - 1, 1), db.get(key(KEYS - 1)), "values in other files read");
        }
    }

    /**
     * The storage modes whose value-log read sources differ: mappings, positional reads on disk,
     * and jimfs, which cannot map (with mmap asked for, sealed files fall back to positional reads).
     */
    enum StorageMode {
        DISK_MAPPED(FileSystemKind.DISK, true),
        DISK_POSITIONAL(FileSystemKind.DISK, false),
        JIMFS(FileSystemKind.JIMFS, true),
        JIMFS_POSITIONAL(FileSystemKind.JIMFS, false);

        final FileSystemKind fileSystem;
        final boolean mmap;

        StorageMode(FileSystemKind fileSystem, boolean mmap) {
            this.fileSystem = fileSystem;
            this.mmap = mmap;
        }
    }

    private static final int SMALL_KEYS = 200;

    /** 64 KiB value-log files of 1,000-byte values: the first file fills with about 64 of them. */
    private static Options smallLogOptions(Path dir, StorageMode mode) {
        return Options.at(dir).valueThreshold(100).valueLogFileSize(64 * 1024).mmap(mode.mmap)
                .gcInterval(Duration.ZERO);
    }

    private static byte[] thousandBytes(int key) {
        byte[] value = new byte[1000];
        Arrays.fill(value, (byte) key);
        ByteBuffer.wrap(value).putInt(key);
        return value;
    }

    private static void verifySmall(TrainKV db) {
        for (int i = 0; i < SMALL_KEYS; i++) {
            assertArrayEquals(thousandBytes(i), db.get(key(i)), "key " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(StorageMode.class)
    void collectingTheFirstSealedFileMovesEveryLiveValueInEveryStorageMode(StorageMode mode) throws Exception {
        Path dir = mode.fileSystem.newDirectory(tempDir);
        long collected;
        try (TrainKV db = TrainKV.open(smallLogOptions(dir, mode))) {
            for (int i = 0; i < SMALL_KEYS; i++) {
                db.set(key(i), thousandBytes(i));
            }
            collected = sealedFiles(db).get(0);
            String log = FileNames.name(collected, FileNames.Kind.VALUE_LOG);
            long bytes = Files.size(dir.resolve(log));
            int entry = 20 + key(0).length + 1000;
            assertEquals(0, bytes % entry, "the sealed file holds whole entries");
            ValueLogGcReport report = db.collectValueLogFiles(Set.of(collected));
            assertEquals(1, report.collectedFiles(), report.format());
            assertEquals(bytes / entry * 1000, report.rewrittenBytes(), "every value of the file is moved: " + report.format());
            assertEquals(bytes, report.files().get(0).bytes(), report.format());
            assertFalse(allFiles(db).contains(collected));
            verifySmall(db);
        }
        try (TrainKV db = TrainKV.open(smallLogOptions(dir, mode))) {
            verifySmall(db);
            assertFalse(allFiles(db).contains(collected));
            assertFalse(Files.exists(dir.resolve(FileNames.name(collected, FileNames.Kind.VALUE_LOG))));
        }
    }

    @ParameterizedTest
    @EnumSource(StorageMode.class)
    void aSealedFileLongerInStorageThanGcReadIsNotCollected(StorageMode mode) throws Exception {
        Path dir = mode.fileSystem.newDirectory(tempDir);
        try (TrainKV db = TrainKV.open(smallLogOptions(dir, mode))) {
            for (int i = 0; i < SMALL_KEYS; i++) {
                db.set(key(i), thousandBytes(i));
            }
        }
        try (TrainKV db = TrainKV.open(smallLogOptions(dir, mode))) {
            long grown = sealedFiles(db).get(0);
            Path log = dir.resolve(FileNames.name(grown, FileNames.Kind.VALUE_LOG));
            long bytes = Files.size(log);
            // bytes the engine did not write appear after it opened the file: the scan cannot vouch for them
            Files.write(log, thousandBytes(7), StandardOpenOption.APPEND);
            CorruptionException e = assertThrows(CorruptionException.class, () -> db.collectValueLogFiles(Set.of(grown)));
            assertEquals(log.getFileName().toString(), e.fileName());
            assertEquals(bytes, e.offset(), e.getMessage());
            assertTrue(allFiles(db).contains(grown), "the file is kept");
            assertEquals(bytes + 1000, Files.size(log), "not a byte of it is gone");
            verifySmall(db);
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
