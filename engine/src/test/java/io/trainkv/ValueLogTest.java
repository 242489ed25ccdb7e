package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.FileNames;
import io.trainkv.storage.ReadSource;
import io.trainkv.storage.ReadableFile;
import io.trainkv.util.ValuePointer;
import io.trainkv.vlog.ValueLog;
import io.trainkv.vlog.VlogEntry;
import io.trainkv.wal.WalFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Key-value separation: values in the value log read back through pointers, across reopens and damage. */
class ValueLogTest {

    @TempDir
    Path tempDir;

    static Options separated(Path dir, int threshold) {
        return CompactionTest.smallTree(dir).valueThreshold(threshold).valueLogFileSize(256 * 1024)
                .gcInterval(java.time.Duration.ZERO);
    }

    static List<String> valueLogs(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> FileNames.parseNumber(n, FileNames.Kind.VALUE_LOG) >= 0).sorted().toList();
        }
    }

    private static byte[] value(Random random) {
        byte[] value = new byte[random.nextInt(4) == 0 ? 600 + random.nextInt(3000) : random.nextInt(200)];
        random.nextBytes(value);
        return value;
    }

    @Test
    void valueLogWriteBytesCountsTheEntriesAppendedSinceOpenNotTheFilesOnDisk() throws Exception {
        Path dir = tempDir.resolve("written");
        long entries = 0;
        try (TrainKV db = TrainKV.open(separated(dir, 64))) {
            assertEquals(0, db.stats().valueLogWriteBytes());
            for (int i = 0; i < 300; i++) {
                byte[] key = ("key-" + i).getBytes();
                db.set(key, new byte[1000 + i]);
                entries += io.trainkv.vlog.VlogFormat.entryLength(key.length, 1000 + i);
            }
            db.set("small".getBytes(), new byte[10]); // under the threshold: stays in the tree
            Stats stats = db.stats();
            assertEquals(entries, stats.valueLogWriteBytes());
            assertTrue(valueLogs(dir).size() > 1, "the appends span several files: " + valueLogs(dir));
        }
        try (TrainKV db = TrainKV.open(separated(dir, 64))) {
            assertTrue(db.stats().valueLogBytes() >= entries, "the files are still there");
            assertEquals(0, db.stats().valueLogWriteBytes(), "nothing appended since this open");
            assertEquals(1299, db.get("key-299".getBytes()).length);
            db.set("key-0".getBytes(), new byte[2000]);
            assertEquals(io.trainkv.vlog.VlogFormat.entryLength(5, 2000), db.stats().valueLogWriteBytes());
        }
    }

    @ParameterizedTest(name = "valueThreshold {0}")
    @ValueSource(ints = {0, 1024, Integer.MAX_VALUE})
    void mixedSmallAndLargeValuesMatchAModelAcrossReopens(int threshold) throws Exception {
        Path dir = tempDir.resolve("db");
        Random random = new Random(threshold);
        TreeMap<String, byte[]> model = new TreeMap<>();
        TrainKV db = TrainKV.open(separated(dir, threshold));
        try {
            for (int op = 1; op <= 30_000; op++) {
                String key = "key-" + random.nextInt(4_000);
                if (random.nextInt(6) == 0) {
                    db.delete(key);
                    model.remove(key);
                } else {
                    byte[] value = value(random);
                    db.set(key.getBytes(), value);
                    model.put(key, value);
                }
                if (op == 15_000) {
                    db.close();
                    db = TrainKV.open(separated(dir, threshold));
                    verify(db, model);
                }
            }
            db.waitForCompactions();
            verify(db, model);
            Stats stats = db.stats();
            if (threshold == Integer.MAX_VALUE) {
                assertTrue(stats.valueLogBytes() == 0, "no value leaves the tree: " + stats.valueLogFiles());
            } else {
                assertTrue(stats.valueLogFiles().size() > 2, "values went to rotating log files: " + stats.valueLogFiles());
            }
        } finally {
            db.close();
        }
        try (TrainKV reopened = TrainKV.open(separated(dir, threshold))) {
            verify(reopened, model);
        }
    }

    static void verify(TrainKV db, TreeMap<String, byte[]> model) {
        for (int i = 0; i < 4_000; i++) {
            String key = "key-" + i;
            byte[] expected = model.get(key);
            if (expected == null) {
                assertNull(db.get(key.getBytes()), key);
            } else {
                assertArrayEquals(expected, db.get(key.getBytes()), key);
            }
        }
        List<String> walked = new ArrayList<>();
        try (DbIterator it = db.iterator()) {
            for (it.seekToFirst(); it.valid(); it.next()) {
                assertArrayEquals(model.get(it.keyAsString()), it.value(), it.keyAsString());
                walked.add(it.keyAsString());
            }
        }
        assertEquals(new ArrayList<>(model.keySet()), walked);
    }

    @Test
    void reopeningWithoutWritesLeavesNoEmptyValueLogFilesBehind() throws Exception {
        Path dir = tempDir.resolve("db");
        for (int i = 0; i < 5; i++) {
            try (TrainKV db = TrainKV.open(separated(dir, 100))) {
                db.get("x");
            }
        }
        assertEquals(1, valueLogs(dir).size(), valueLogs(dir).toString());
    }

    @Test
    void aFlippedByteInAValueIsReportedWithFileAndOffsetAndOtherKeysStillRead() throws Exception {
        Path dir = tempDir.resolve("db");
        Map<String, byte[]> values = new HashMap<>();
        try (TrainKV db = TrainKV.open(separated(dir, 100))) {
            for (int i = 0; i < 50; i++) {
                byte[] value = new byte[1000];
                new Random(i).nextBytes(value);
                db.set(("key-" + i).getBytes(), value);
                values.put("key-" + i, value);
            }
            db.flush();
        }
        String log = valueLogs(dir).get(0);
        long entryLength = 20 + "key-0".length() + 1000;
        flipByte(dir.resolve(log), entryLength + 20 + 5 + 17);
        try (TrainKV db = TrainKV.open(separated(dir, 100))) {
            CorruptionException e = assertThrows(CorruptionException.class, () -> db.get("key-1".getBytes()));
            assertEquals(log, e.fileName());
            assertEquals(entryLength, e.offset(), e.getMessage());
            assertTrue(e.getMessage().contains("checksum"), e.getMessage());
            assertArrayEquals(values.get("key-0"), db.get("key-0".getBytes()));
            assertArrayEquals(values.get("key-2"), db.get("key-2".getBytes()));
        }
    }

    @Test
    void aTruncatedValueLogTailUncommitsTheUnflushedWritesThatPointIntoItAndNothingElse() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(separated(dir, 100))) {
            for (int i = 0; i < 10; i++) {
                db.set(("flushed-" + i).getBytes(), new byte[500]);
            }
            db.flush();
            for (int i = 0; i < 10; i++) {
                db.set(("recent-" + i).getBytes(), new byte[500]);
            }
        }
        List<String> logs = valueLogs(dir);
        Path last = null;
        for (String name : logs) {
            if (Files.size(dir.resolve(name)) > 0) {
                last = dir.resolve(name);
            }
        }
        try (FileChannel channel = FileChannel.open(last, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 300);
        }
        // a crash before close(): the WAL lacks the value-log durable mark close() appends last
        Path wal;
        try (Stream<Path> files = Files.list(dir)) {
            wal = files.filter(p -> FileNames.parseNumber(p.getFileName().toString(), FileNames.Kind.WAL) >= 0)
                    .sorted().reduce((a, b) -> b).orElseThrow();
        }
        try (FileChannel channel = FileChannel.open(wal, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long markAt = channel.size() - WalFormat.DURABLE_MARK_RECORD_SIZE;
            ByteBuffer version = ByteBuffer.allocate(8);
            channel.read(version, markAt + WalFormat.HEADER_SIZE);
            assertEquals(WalFormat.DURABLE_MARK_VERSION, version.getLong(0), "the WAL ends in close()'s mark");
            channel.truncate(markAt);
        }
        try (TrainKV db = TrainKV.open(separated(dir, 100))) {
            for (int i = 0; i < 10; i++) {
                assertArrayEquals(new byte[500], db.get(("flushed-" + i).getBytes()), "flushed-" + i);
            }
            for (int i = 0; i < 9; i++) {
                assertArrayEquals(new byte[500], db.get(("recent-" + i).getBytes()), "recent-" + i);
            }
            assertNull(db.get("recent-9"), "the write whose value was cut off is not served as garbage");
            db.set("recent-9".getBytes(), new byte[] {9});
        }
        try (TrainKV db = TrainKV.open(separated(dir, 100))) {
            assertArrayEquals(new byte[] {9}, db.get("recent-9".getBytes()));
        }
    }

    @Test
    void aTruncatedValueLogUnderFlushedPointersIsCorruptionWithFileAndOffset() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(separated(dir, 100))) {
            for (int i = 0; i < 10; i++) {
                db.set(("key-" + i).getBytes(), new byte[500]);
            }
            db.flush();
        }
        Path log = dir.resolve(valueLogs(dir).get(0));
        long size = Files.size(log);
        try (FileChannel channel = FileChannel.open(log, StandardOpenOption.WRITE)) {
            channel.truncate(size - 100);
        }
        try (TrainKV db = TrainKV.open(separated(dir, 100))) {
            CorruptionException e = assertThrows(CorruptionException.class, () -> db.get("key-9".getBytes()));
            assertEquals(log.getFileName().toString(), e.fileName());
            assertEquals(9 * (20 + 5 + 500), e.offset(), e.getMessage());
            assertArrayEquals(new byte[500], db.get("key-0".getBytes()));
        }
    }

    /** A value-log entry as the engine writes it (docs/format.md). */
    static byte[] entry(long version, byte[] key, byte[] value) {
        ByteBuffer entry = ByteBuffer.allocate(20 + key.length + value.length);
        entry.putInt(0).putLong(version).putInt(key.length).putInt(value.length).put(key).put(value);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(entry.array(), 4, entry.capacity() - 4);
        return entry.putInt(0, (int) crc.getValue()).array();
    }

    /** An in-memory file that counts the reads made of it. */
    static final class CountingFile implements ReadableFile {
        final byte[] bytes;
        int reads;

        CountingFile(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public int read(long position, ByteBuffer dst) {
            reads++;
            int n = (int) Math.min(dst.remaining(), bytes.length - position);
            dst.put(bytes, (int) position, n);
            return n;
        }

        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void nextSoundEntryFindsTheFirstSoundEntryAfterGarbageAndNoneInAZeroTail() throws Exception {
        byte[] first = entry(7, "key-a".getBytes(), new byte[300]);
        byte[] second = entry(8, "key-b".getBytes(), "value".getBytes());
        byte[] garbage = new byte[5000];
        new Random(1).nextBytes(garbage);
        ByteBuffer file = ByteBuffer.allocate(first.length + garbage.length + second.length + 4096);
        file.put(first).put(garbage).put(second); // and a zero-filled tail
        try (ReadSource source = ReadSource.open(new CountingFile(file.array()), false)) {
            long secondAt = first.length + garbage.length;
            assertEquals(0, ValueLog.nextSoundEntry(source, "1.vlog", 1, 0));
            assertEquals(secondAt, ValueLog.nextSoundEntry(source, "1.vlog", 1, 1), "garbage is skipped");
            assertEquals(secondAt, ValueLog.nextSoundEntry(source, "1.vlog", 1, secondAt));
            assertEquals(-1, ValueLog.nextSoundEntry(source, "1.vlog", 1, secondAt + 1), "a zero tail holds none");
            assertEquals(-1, ValueLog.nextSoundEntry(source, "1.vlog", 1, file.capacity() - 3));
            VlogEntry found = ValueLog.readEntry(source, "1.vlog", new ValuePointer(1, secondAt, second.length));
            assertArrayEquals("key-b".getBytes(), found.key());
        }
    }

    @Test
    void nextSoundEntryReadsAManyMegabyteZeroTailInWindowsAndFindsAnEntryAcrossAWindowEdge() throws Exception {
        byte[] entry = entry(3, "key".getBytes(), new byte[1000]);
        int edge = (1 << 20) - 10; // the entry starts just before the first window ends
        byte[] bytes = new byte[16 << 20];
        System.arraycopy(entry, 0, bytes, edge, entry.length);
        CountingFile file = new CountingFile(bytes);
        try (ReadSource source = ReadSource.open(file, false)) {
            assertEquals(edge, ValueLog.nextSoundEntry(source, "1.vlog", 1, 1));
            file.reads = 0;
            assertEquals(-1, ValueLog.nextSoundEntry(source, "1.vlog", 1, edge + 1));
            assertTrue(file.reads <= 17, "16 MiB read in 1 MiB windows, not a read per offset: " + file.reads);
        }
    }

    @Test
    void nextSoundEntrySkipsHeadersTheEngineCannotHaveWritten() throws Exception {
        byte[] emptyKey = entry(1, new byte[0], "v".getBytes()); // a good checksum, but no key
        byte[] cut = entry(2, "key".getBytes(), new byte[100]);
        byte[] bytes = new byte[emptyKey.length + 50];
        System.arraycopy(emptyKey, 0, bytes, 0, emptyKey.length);
        System.arraycopy(cut, 0, bytes, emptyKey.length, 50); // runs past the end of the file
        try (ReadSource source = ReadSource.open(new CountingFile(bytes), false)) {
            assertEquals(-1, ValueLog.nextSoundEntry(source, "1.vlog", 1, 0));
        }
    }

    static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, offset);
            one.put(0, (byte) (one.get(0) ^ 0x04)).rewind();
            channel.write(one, offset);
        }
    }
}
