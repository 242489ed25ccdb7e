package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.FileNames;
import io.trainkv.wal.WalBatchEncoder;
import io.trainkv.wal.WalFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Reopen after close, torn WAL tails, corruption reports and the version clock across restarts. */
class WalRecoveryTest {

    /**
     * Key "k0000".."k9999" and a 20-byte value at a version below 128 give records of one known
     * size: the record header, a 3-byte batch header (tag, one-byte version and count varints),
     * a 3-byte entry header (flags, one-byte key and value lengths), the key and the value.
     */
    private static final int VALUE_SIZE = 20;
    private static final int RECORD_SIZE = WalFormat.HEADER_SIZE + 3 + 3 + 5 + VALUE_SIZE;

    @TempDir
    Path tempDir;

    private static String key(int i) {
        return String.format("k%04d", i);
    }

    private static String value(int i) {
        return String.format("value-%014d", i);
    }

    /**
     * Leaves {@code NNNNNN.wal} in a database's directory as a crashed database would: one
     * single-key batch per key, at version {@code i + 1}, never flushed.
     */
    private static Path writeWal(Path dir, long number, int from, int to) throws IOException {
        emptyDatabase(dir);
        WalBatchEncoder encoder = new WalBatchEncoder();
        for (int i = from; i < to; i++) {
            encoder.beginBatch(i + 1);
            encoder.addEntry((byte) 0, (byte) 0, 0, key(i).getBytes(), value(i).getBytes());
            encoder.endBatch();
        }
        ByteBuffer records = encoder.records();
        Path wal = dir.resolve(FileNames.name(number, FileNames.Kind.WAL));
        Files.write(wal, Arrays.copyOfRange(records.array(), 0, records.limit()));
        return wal;
    }

    /**
     * Creates an empty database in {@code dir} unless there is one (open refuses WALs without a
     * {@code CURRENT}), without the empty WAL and value-log file its open left.
     */
    private static void emptyDatabase(Path dir) throws IOException {
        if (Files.exists(dir.resolve(FileNames.CURRENT))) {
            return;
        }
        TrainKV.open(Options.at(dir)).close();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String name = p.getFileName().toString();
                if (FileNames.parseNumber(name, FileNames.Kind.WAL) >= 0
                        || FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG) >= 0) {
                    Files.delete(p);
                }
            }
        }
    }

    private static List<Path> wals(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> FileNames.parseNumber(p.getFileName().toString(), FileNames.Kind.WAL) >= 0)
                    .sorted().toList();
        }
    }

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void reopenAfterCloseReturnsEverythingAndNewWritesWin(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        long lastVersion;
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("k", "v1");
            db.set("gone", "x");
            db.delete("gone");
            lastVersion = db.stats().lastVersion();
        }
        for (int round = 2; round <= 4; round++) {
            try (TrainKV db = TrainKV.open(Options.at(dir))) {
                assertEquals("v" + (round - 1), db.get("k"), "newest write of the previous session");
                assertNull(db.get("gone"), "a delete stays deleted");
                assertEquals(lastVersion, db.stats().lastVersion(), "the clock resumes where it stopped");
                db.set("k", "v" + round);
                assertTrue(db.stats().lastVersion() > lastVersion);
                lastVersion = db.stats().lastVersion();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void tornTailOfTheNewestWalIsCutAtTheLastCompleteRecord(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        Path wal = writeWal(dir, 1, 0, 100);
        assertEquals(100L * RECORD_SIZE, Files.size(wal));
        truncate(wal, 99L * RECORD_SIZE + 11);

        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            assertTrue(!Files.exists(wal) || Files.size(wal) == 99L * RECORD_SIZE,
                    "the torn bytes were cut off before the log was used");
            for (int i = 0; i < 99; i++) {
                assertEquals(value(i), db.get(key(i)));
            }
            assertNull(db.get(key(99)), "the torn record is not served");
            db.set(key(99), "rewritten");
        }
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            assertEquals("rewritten", db.get(key(99)), "the new write won over nothing");
            assertEquals(value(0), db.get(key(0)));
        }
    }

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void zeroFilledAndGarbageTailsAreTheEndOfTheLog(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        Path wal = writeWal(dir, 1, 0, 50);
        append(wal, new byte[8192]);
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            assertEquals(value(49), db.get(key(49)));
            db.set(key(50), value(50));
        }
        Path newest = wals(dir).get(wals(dir).size() - 1);
        byte[] garbage = new byte[3000];
        new Random(7).nextBytes(garbage);
        append(newest, garbage);
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            for (int i = 0; i <= 50; i++) {
                assertEquals(value(i), db.get(key(i)));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void aFlippedByteInAnOlderWalIsReportedWithFileAndOffset(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        Path older = writeWal(dir, 1, 0, 40);
        writeWal(dir, 2, 40, 80);
        long damagedRecord = 17L * RECORD_SIZE;
        flipByte(older, damagedRecord + RECORD_SIZE - 3);

        CorruptionException e = assertThrows(CorruptionException.class, () -> TrainKV.open(Options.at(dir)));
        String name = older.getFileName().toString();
        assertEquals(name, e.fileName());
        assertEquals(damagedRecord, e.offset());
        assertTrue(e.getMessage().contains(name) && e.getMessage().contains("offset " + damagedRecord), e.getMessage());
        // nothing was changed by the failed open: the same error again, and the lock was released
        CorruptionException again = assertThrows(CorruptionException.class, () -> TrainKV.open(Options.at(dir)));
        assertEquals(damagedRecord, again.offset());
    }

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void aFlippedByteInTheMiddleOfTheNewestWalIsNotMistakenForATornTail(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        Path wal = writeWal(dir, 1, 0, 30);
        flipByte(wal, 5L * RECORD_SIZE + 2);
        CorruptionException e = assertThrows(CorruptionException.class, () -> TrainKV.open(Options.at(dir)));
        assertEquals(5L * RECORD_SIZE, e.offset());
        assertTrue(e.getMessage().contains("valid records follow"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void aTornBatchIsInvisibleAsAWhole(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("before", "1");
            db.write(new WriteBatch().set("a", "1").set("b", "2").delete("before").set("c", "3"));
        }
        Path wal = wals(dir).get(0);
        truncate(wal, Files.size(wal) - 6);
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            assertEquals("1", db.get("before"));
            assertNull(db.get("a"));
            assertNull(db.get("b"));
            assertNull(db.get("c"));
        }
    }

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void aRecordAtTheReservedMaximumVersionIsCorruptionNotAClockWrap(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        Path wal = writeWal(dir, 1, 0, 3);
        WalBatchEncoder encoder = new WalBatchEncoder();
        encoder.beginBatch(Long.MAX_VALUE);
        encoder.addEntry((byte) 0, (byte) 0, 0, "k".getBytes(), "v".getBytes());
        encoder.endBatch();
        ByteBuffer records = encoder.records();
        byte[] bytes = new byte[records.remaining()];
        records.get(bytes);
        long offset = Files.size(wal);
        append(wal, bytes);

        CorruptionException e = assertThrows(CorruptionException.class, () -> TrainKV.open(Options.at(dir)));
        assertEquals(offset, e.offset());
        assertTrue(e.getMessage().contains("version " + Long.MAX_VALUE + " is out of range"), e.getMessage());
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size);
        }
    }

    private static void append(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes, StandardOpenOption.APPEND);
    }

    private static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, offset);
            one.put(0, (byte) (one.get(0) ^ 0x40)).rewind();
            channel.write(one, offset);
        }
    }
}
