package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadableFile;
import io.trainkv.wal.WalReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * WAL replay meets a damaged value log: a batch of the newest WAL pointing at a value-log entry
 * that does not read back is a torn tail only when nothing in the value log shows the entry was
 * written in full; otherwise open fails naming the value-log file and offset and changes no byte,
 * unless a later write of the same key makes the damaged value dead, when nothing is lost.
 */
class RecoveryDamageTest {

    /** Bytes of a value-log entry before its key: checksum, version, key length, value length. */
    private static final int ENTRY_HEADER = 20;
    private static final int BIG = 4096;

    @TempDir
    Path tempDir;

    private CapturedLogs logs;

    @BeforeEach
    void captureLogs() {
        logs = new CapturedLogs();
    }

    @AfterEach
    void restoreLogs() {
        logs.close();
    }

    private static byte[] big(int seed) {
        byte[] value = new byte[BIG];
        new Random(seed).nextBytes(value);
        return value;
    }

    /** The non-empty value-log files, oldest first. */
    private static List<String> valueLogs(Path dir) throws IOException {
        List<String> logs = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.sorted().toList()) {
                if (FileNames.parseNumber(p.getFileName().toString(), FileNames.Kind.VALUE_LOG) >= 0 && Files.size(p) > 0) {
                    logs.add(p.getFileName().toString());
                }
            }
        }
        return logs;
    }

    /** Every file of the directory with its bytes. */
    private static Map<String, byte[]> contents(Path dir) throws IOException {
        Map<String, byte[]> contents = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                contents.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return contents;
    }

    private static void assertSameContents(Map<String, byte[]> expected, Map<String, byte[]> actual) {
        assertEquals(expected.keySet(), actual.keySet(), "no file was created or deleted");
        for (Map.Entry<String, byte[]> e : expected.entrySet()) {
            assertArrayEquals(e.getValue(), actual.get(e.getKey()), e.getKey() + " is byte-identical");
        }
    }

    private static void xor(Path file, long offset, int mask) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, offset);
            one.put(0, (byte) (one.get(0) ^ mask)).rewind();
            channel.write(one, offset);
        }
    }

    private static void zero(Path file, long offset, int length) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(length), offset);
        }
    }

    /** Offsets inside the entry of key "k1" with a 4 KiB value: every header field, the key, the value. */
    static Stream<Arguments> flips() {
        int entryLength = ENTRY_HEADER + 2 + BIG;
        List<Arguments> cases = new ArrayList<>();
        for (FileSystemKind fs : FileSystemKind.values()) {
            for (int offset : new int[] {1, 6, 14, 18, ENTRY_HEADER, ENTRY_HEADER + 2 + 2000, entryLength - 1}) {
                cases.add(Arguments.of(fs, offset));
            }
        }
        return cases.stream();
    }

    /**
     * The recipe: {@code set k1} (4 KiB, to the value log), {@code set k2 "small"}, close,
     * one byte of k1's entry flipped. Open used to call it a torn tail and cut the WAL, losing k1
     * and k2. The entry lies whole in the file and its header still names the batch's key, so it
     * was written in full and damaged since.
     */
    @ParameterizedTest(name = "{0}, byte {1} of the entry")
    @MethodSource("flips")
    void aFlippedByteInAValueTheNewestWalNeedsFailsTheOpenAndChangesNothing(FileSystemKind fs, int offsetInEntry)
            throws Exception {
        Path dir = fs.newDirectory(tempDir);
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("k1".getBytes(), big(1));
            db.set("k2", "small");
        }
        String log = valueLogs(dir).get(0);
        xor(dir.resolve(log), offsetInEntry, 0x10);
        Map<String, byte[]> before = contents(dir);

        for (int attempt = 0; attempt < 2; attempt++) {
            CorruptionException e = assertThrows(CorruptionException.class, () -> TrainKV.open(Options.at(dir)));
            assertEquals(log, e.fileName(), e.getMessage());
            assertEquals(0, e.offset(), e.getMessage());
            assertTrue(e.getMessage().contains(log + " at offset 0"), e.getMessage());
            assertSameContents(before, contents(dir));
        }
    }

    /**
     * A damaged entry that sound entries follow in its file, even one damaged beyond recognition
     * (zeroed), was not cut short by a crash: a crash tears only the end of a file.
     */
    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void aZeroedEntryThatASoundEntryFollowsIsDamageNotATornTail(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("k1".getBytes(), big(1));
            db.set("k2".getBytes(), big(2));
            db.set("k3", "small");
        }
        String log = valueLogs(dir).get(0);
        zero(dir.resolve(log), 0, ENTRY_HEADER + 2 + BIG);
        Map<String, byte[]> before = contents(dir);

        CorruptionException e = assertThrows(CorruptionException.class, () -> TrainKV.open(Options.at(dir)));
        assertEquals(log, e.fileName(), e.getMessage());
        assertEquals(0, e.offset(), e.getMessage());
        assertSameContents(before, contents(dir));
    }

    /**
     * A value-log file that a newer one follows was fsynced in full before the newer one was
     * created, so an entry of it that does not read back is damage, wherever it lies in the file.
     */
    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void aZeroedEntryInAValueLogFileThatANewerOneFollowsIsDamage(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        byte[] large = new byte[40 * 1024];
        try (TrainKV db = TrainKV.open(Options.at(dir).valueLogFileSize(64 * 1024))) {
            db.set("k1".getBytes(), large);
            db.set("k2".getBytes(), large); // does not fit: the log rotates to a new file
        }
        List<String> logs = valueLogs(dir);
        assertEquals(2, logs.size(), logs.toString());
        String first = logs.get(0);
        zero(dir.resolve(first), 0, (int) Files.size(dir.resolve(first)));
        Map<String, byte[]> before = contents(dir);

        CorruptionException e = assertThrows(CorruptionException.class,
                () -> TrainKV.open(Options.at(dir).valueLogFileSize(64 * 1024)));
        assertEquals(first, e.fileName(), e.getMessage());
        assertEquals(0, e.offset(), e.getMessage());
        assertSameContents(before, contents(dir));
    }

    /**
     * Damage in a value no reader can reach any more (a later write replaced it) costs nothing:
     * open succeeds, says which entry is damaged, and every acknowledged write reads back.
     */
    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void damageInAnOverwrittenValueCostsNoWrite(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("k1".getBytes(), big(1));
            db.set("k1".getBytes(), big(2));
            db.set("k2", "small");
            db.set("gone".getBytes(), big(3));
            db.delete("gone");
        }
        String log = valueLogs(dir).get(0);
        int entryLength = ENTRY_HEADER + 2 + BIG;
        xor(dir.resolve(log), ENTRY_HEADER + 2 + 100, 0x01); // k1's first value
        xor(dir.resolve(log), 2L * entryLength + ENTRY_HEADER + 4 + 100, 0x01); // the deleted key's value

        for (int round = 0; round < 2; round++) {
            try (TrainKV db = TrainKV.open(Options.at(dir))) {
                assertArrayEquals(big(2), db.get("k1".getBytes()));
                assertEquals("small", db.get("k2"));
                assertNull(db.get("gone"));
            }
        }
        List<String> warnings = logs.messages(Level.WARNING);
        assertTrue(warnings.stream().anyMatch(w -> w.contains(log + " at offset 0")), warnings.toString());
    }

    /** A damaged entry that no WAL batch points to any more is never looked at by recovery. */
    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void damageInAnEntryNoWalPointsToCostsNoWrite(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("k0".getBytes(), big(0));
            db.flush();
            db.set("k0", "replaced");
            db.set("k1".getBytes(), big(1));
            db.set("k2", "small");
        }
        String log = valueLogs(dir).get(0);
        xor(dir.resolve(log), ENTRY_HEADER + 2 + 100, 0x01); // k0's old value, in a table only
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            assertEquals("replaced", db.get("k0"));
            assertArrayEquals(big(1), db.get("k1".getBytes()));
            assertEquals("small", db.get("k2"));
        }
    }

    /**
     * The genuine torn tail still ends the log: the newest WAL's last batch points at an entry cut
     * short at the end of the newest value-log file, with nothing after it, and no value-log
     * durable mark covers it (the WAL is cut before the mark {@code close()} appended, as a crash
     * before the close leaves it). Open drops that batch alone, with a warning giving the WAL
     * offset, and keeps every earlier one.
     */
    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void anEntryCutShortAtTheEndOfTheValueLogIsATornTailThatDropsOnlyItsBatch(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("a", "small");
            db.set("b".getBytes(), big(1));
            db.set("c", "small too");
            db.set("k".getBytes(), big(2));
        }
        List<String> wals = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString()).filter(n -> FileNames.parseNumber(n, FileNames.Kind.WAL) >= 0)
                    .sorted().forEach(wals::add);
        }
        String wal = wals.get(wals.size() - 1);
        List<Long> records = recordOffsets(dir, wal);
        assertEquals(5, records.size(), "four batches and the durable mark of close(): " + records);
        try (FileChannel channel = FileChannel.open(dir.resolve(wal), StandardOpenOption.WRITE)) {
            channel.truncate(records.get(4));
        }
        Path log = dir.resolve(valueLogs(dir).get(0));
        try (FileChannel channel = FileChannel.open(log, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 100);
        }

        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            assertEquals("small", db.get("a"));
            assertArrayEquals(big(1), db.get("b".getBytes()));
            assertEquals("small too", db.get("c"));
            assertNull(db.get("k"), "the batch whose value a crash cut short was never committed");
        }
        List<String> warnings = logs.messages(Level.WARNING);
        assertTrue(warnings.stream().anyMatch(w -> w.contains(wal + " ends in a torn tail at offset " + records.get(3))),
                warnings.toString());
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            assertArrayEquals(big(1), db.get("b".getBytes()));
            assertNull(db.get("k"));
        }
    }

    private static List<Long> recordOffsets(Path dir, String wal) throws IOException {
        List<Long> offsets = new ArrayList<>();
        try (ReadableFile file = NioStorage.open(dir).openRead(wal)) {
            WalReader reader = new WalReader(file, wal, false);
            while (reader.next() != null) {
                offsets.add(reader.recordOffset());
            }
        }
        return offsets;
    }
}
