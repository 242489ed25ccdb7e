package io.trainkv.vlog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.CapturedLogs;
import io.trainkv.CorruptionException;
import io.trainkv.FaultInjectingStorage;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadSource;
import io.trainkv.storage.Storage;
import io.trainkv.util.Bytes;
import io.trainkv.util.ValuePointer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.logging.Level;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The value-log stage on a real directory: every entry is in the stage file when its add returns,
 * reads find entries in the stage and in the file across flushes (also while they run), and an
 * open applies exactly what it can vouch for and the file lacks.
 */
class ValueLogStageTest {

    @TempDir
    Path dir;

    @Test
    void everyAddIsInTheStageFileWhenItReturnsAndInTheValueLogAfterASync() throws Exception {
        Storage storage = NioStorage.open(dir);
        try (ValueLog log = open(storage, 1L << 30)) {
            String name = FileNames.name(log.activeFileId(), FileNames.Kind.VALUE_LOG);
            long staged = 0;
            for (int i = 0; i < 50; i++) {
                byte[] pointer = new byte[ValuePointer.SIZE];
                log.add(key(i), i + 1, value(i, 1024), pointer);
                staged += ValuePointer.decode(pointer).length();
                try (ValueLogStage view = ValueLogStage.open(storage, false)) { // another mapping of the file
                    assertEquals(new ValueLogStage.Pending(log.activeFileId(), 0, (int) staged), view.pending(),
                            "after add " + i);
                }
                assertEquals(0, Files.size(dir.resolve(name)), "the value-log file receives a MiB at a time");
            }
            log.sync();
            assertEquals(staged, Files.size(dir.resolve(name)), "a sync writes the staged entries to the file");
            assertNull(ValueLogStage.open(storage, false), "and empties the stage");
        }
    }

    @Test
    void readsFindEntriesInTheStageAndInTheFileAcrossFlushesAndPastEntriesLongerThanTheStage() throws Exception {
        Storage storage = NioStorage.open(dir);
        Random random = new Random(7);
        List<byte[]> values = new ArrayList<>();
        List<ValuePointer> pointers = new ArrayList<>();
        try (ValueLog log = open(storage, 8L << 20)) {
            for (int i = 0; i < 400; i++) {
                int length = i == 150 ? ValueLogStage.CAPACITY + 4096 : 100 + random.nextInt(70_000);
                values.add(value(i, length));
                byte[] pointer = new byte[ValuePointer.SIZE];
                log.add(key(i), i + 1, values.get(i), pointer);
                pointers.add(ValuePointer.decode(pointer));
                log.publishAppended();
                assertArrayEquals(values.get(i), log.read(pointers.get(i)), "the newest, " + i);
                int earlier = random.nextInt(i + 1);
                assertArrayEquals(values.get(earlier), log.read(pointers.get(earlier)), "entry " + earlier + " after " + i);
            }
            assertTrue(log.fileIds().size() > 1, "the entries rotated through files: " + log.fileIds());
            for (int i = 0; i < values.size(); i++) {
                assertArrayEquals(values.get(i), log.read(pointers.get(i)), "entry " + i);
            }
        }
    }

    @Test
    void readersRacingFlushesReadEveryEntryWhole() throws Exception {
        Storage storage = NioStorage.open(dir);
        int entries = 20_000;
        AtomicReferenceArray<ValuePointer> published = new AtomicReferenceArray<>(entries);
        AtomicLong newest = new AtomicLong(-1);
        AtomicBoolean done = new AtomicBoolean();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        CountDownLatch everyReaderRead = new CountDownLatch(2);
        boolean everyoneRead;
        try (ValueLog log = open(storage, 8L << 20)) {
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                Thread reader = new Thread(() -> {
                    Random random = new Random();
                    boolean counted = false;
                    while (!done.get()) {
                        long top = newest.get();
                        if (top < 0) {
                            continue;
                        }
                        int i = (int) Math.max(0, top - random.nextInt(64));
                        try {
                            byte[] read = log.read(published.get(i));
                            if (!Arrays.equals(read, value(i, 200 + i % 1300))) {
                                problems.add("entry " + i + " read back wrong");
                            }
                            if (!counted) {
                                counted = true;
                                everyReaderRead.countDown();
                            }
                        } catch (IOException | RuntimeException e) {
                            problems.add("entry " + i + ": " + e);
                        }
                    }
                });
                reader.start();
                readers.add(reader);
            }
            for (int i = 0; i < entries; i++) {
                byte[] pointer = new byte[ValuePointer.SIZE];
                log.add(key(i), i + 1, value(i, 200 + i % 1300), pointer);
                log.publishAppended();
                published.set(i, ValuePointer.decode(pointer));
                newest.set(i);
            }
            everyoneRead = everyReaderRead.await(1, TimeUnit.MINUTES); // no timing: a hang guard
            done.set(true);
            for (Thread reader : readers) {
                reader.join();
            }
        }
        assertEquals(List.of(), List.copyOf(problems));
        assertTrue(everyoneRead, "every reader read an entry while the writer wrote");
    }

    @Test
    void pendingRefusesEntriesItCannotVouchFor() throws Exception {
        Storage storage = NioStorage.open(dir);
        try (ValueLogStage stage = ValueLogStage.open(storage, true)) {
            stage.begin(7, 4096);
            List<byte[]> entries = List.of(entry(1, 300), entry(2, 500), entry(3, 700));
            int total = 0;
            for (byte[] entry : entries) {
                stageEntry(stage, entry);
                total += entry.length;
            }
            assertEquals(new ValueLogStage.Pending(7, 4096, total), stage.pending());
            Path file = dir.resolve(FileNames.VALUE_LOG_STAGE);
            int inSecond = ValueLogStage.HEADER_BYTES + entries.get(0).length + 100;
            byte original = Files.readAllBytes(file)[inSecond];
            write(file, inSecond, new byte[] {(byte) ~original});
            assertNull(stage.pending(), "a damaged entry");
            write(file, inSecond, new byte[] {original});
            assertEquals(new ValueLogStage.Pending(7, 4096, total), stage.pending(), "repaired");

            byte[] progress = Arrays.copyOfRange(Files.readAllBytes(file), ValueLogStage.PROGRESS_AT,
                    ValueLogStage.PROGRESS_AT + 8);
            byte[] shorter = progress.clone();
            Bytes.putIntBigEndian(shorter, 0, total - entries.get(2).length);
            write(file, ValueLogStage.PROGRESS_AT, shorter);
            assertNull(stage.pending(), "a count that ends before the entries the chain covers");

            stage.begin(7, 4096 + total); // the next use of the stage: its header written, its entries not yet
            write(file, ValueLogStage.PROGRESS_AT, progress);
            assertNull(stage.pending(), "the entries of an earlier use, under the header of the next");
            stage.begin(8, 4096);
            write(file, ValueLogStage.PROGRESS_AT, progress);
            assertNull(stage.pending(), "the entries of another file at the same offset");
        }
    }

    @Test
    void anOpenAppendsOnlyWhatTheValueLogFileLacks() throws Exception {
        byte[] prefix = new byte[100];
        Arrays.fill(prefix, (byte) 'x');
        List<byte[]> entries = List.of(entry(1, 300), entry(2, 500), entry(3, 700));
        byte[] staged = concat(entries);
        String name = FileNames.name(3, FileNames.Kind.VALUE_LOG);
        int[] present = {0, entries.get(0).length, staged.length};
        for (int i = 0; i < present.length; i++) {
            Path at = dir.resolve("lacks-" + i);
            Storage storage = NioStorage.open(at);
            stageAll(storage, 3, prefix.length, entries);
            Files.write(at.resolve(name), concat(List.of(prefix, Arrays.copyOf(staged, present[i]))));
            try (ValueLogStage stage = ValueLogStage.open(storage, true)) {
                assertEquals(staged.length - present[i], stage.applyPending(storage), "holding " + present[i]);
            }
            assertArrayEquals(concat(List.of(prefix, staged)), Files.readAllBytes(at.resolve(name)), "holding " + present[i]);
            assertNull(ValueLogStage.open(storage, false), "the stage is emptied once applied");
        }
    }

    @Test
    void anOpenAppendsNothingToAFileThatLacksBytesBeforeTheStagedEntriesOrIsGone() throws Exception {
        List<byte[]> entries = List.of(entry(1, 300), entry(2, 500));
        String name = FileNames.name(3, FileNames.Kind.VALUE_LOG);
        Path shortDir = dir.resolve("short");
        Storage storage = NioStorage.open(shortDir);
        stageAll(storage, 3, 100, entries);
        Files.write(shortDir.resolve(name), new byte[60]); // a power cut took bytes its last fsync did not cover
        try (CapturedLogs logs = new CapturedLogs(); ValueLogStage stage = ValueLogStage.open(storage, true)) {
            assertEquals(0, stage.applyPending(storage));
            assertEquals(List.of("VLOG-STAGE holds " + concat(entries).length + " bytes for " + name
                    + " from offset 100, but the file ends at 60: they cannot be appended"), logs.messages(Level.WARNING));
        }
        assertEquals(60, Files.size(shortDir.resolve(name)));

        Path goneDir = dir.resolve("gone");
        Storage gone = NioStorage.open(goneDir);
        stageAll(gone, 3, 100, entries);
        try (ValueLogStage stage = ValueLogStage.open(gone, true)) {
            assertEquals(0, stage.applyPending(gone), "collected by GC: nothing points into it");
        }
        assertTrue(Files.notExists(goneDir.resolve(name)));
    }

    @Test
    void aFailedWriteOfTheStageFailsEveryLaterAppendAndSyncAndTheNextOpenAppliesTheEntries() throws Exception {
        AtomicBoolean failAppends = new AtomicBoolean();
        Storage storage = new FaultInjectingStorage(NioStorage.open(dir), (op, name) -> {
            if (op == FaultInjectingStorage.Op.APPEND && name.endsWith(".vlog") && failAppends.get()) {
                throw new IOException("injected: disk full");
            }
        });
        List<byte[]> values = new ArrayList<>();
        List<ValuePointer> pointers = new ArrayList<>();
        ValueLog log = open(storage, 1L << 30);
        long fileId = log.activeFileId();
        failAppends.set(true);
        IOException failed = null;
        for (int i = 0; failed == null; i++) {
            byte[] pointer = new byte[ValuePointer.SIZE];
            try {
                log.add(key(i), i + 1, value(i, 4000), pointer);
                values.add(value(i, 4000));
                pointers.add(ValuePointer.decode(pointer));
            } catch (IOException e) {
                failed = e;
            }
        }
        assertEquals(ValueLogStage.CAPACITY / 4036, values.size(), "the add that found the stage full failed");
        log.publishAppended();
        for (int i = 0; i < values.size(); i++) {
            assertArrayEquals(values.get(i), log.read(pointers.get(i)), "the staged entries still read back, " + i);
        }
        failAppends.set(false);
        assertThrows(IOException.class, () -> log.add(key(-1), 0, value(-1, 10), new byte[ValuePointer.SIZE]));
        assertThrows(IOException.class, log::sync);
        assertThrows(IOException.class, log::close, "the close's sync fails too, and it releases the files");
        Storage reopened = NioStorage.open(dir);
        try (ValueLogStage stage = ValueLogStage.open(reopened, true)) {
            assertEquals((long) values.size() * 4036, stage.applyPending(reopened));
        }
        String name = FileNames.name(fileId, FileNames.Kind.VALUE_LOG);
        try (ReadSource source = ReadSource.open(reopened.openRead(name), false)) {
            for (int i = 0; i < values.size(); i++) {
                assertArrayEquals(values.get(i), ValueLog.readEntry(source, name, pointers.get(i)).value(), "entry " + i);
            }
        }
    }

    @Test
    void aStageThisVersionDoesNotWriteIsRefusedAndLeftAsItIs() throws Exception {
        Storage storage = NioStorage.open(dir);
        Path file = dir.resolve(FileNames.VALUE_LOG_STAGE);
        try (ValueLogStage stage = ValueLogStage.open(storage, true)) {
            stage.begin(3, 0);
            stageEntry(stage, entry(1, 300));
        }
        write(file, ValueLogStage.VERSION_AT, new byte[] {0, 0, 0, 2}); // a later format version
        byte[] later = Files.readAllBytes(file);
        for (boolean writable : new boolean[] {true, false}) {
            CorruptionException refused = assertThrows(CorruptionException.class, () -> ValueLogStage.open(storage, writable));
            assertTrue(refused.getMessage().contains("format version 2"), refused.getMessage());
            assertArrayEquals(later, Files.readAllBytes(file), "writable " + writable);
        }

        byte[] otherLength = Arrays.copyOf(later, ValueLogStage.HEADER_BYTES + 4096); // another capacity
        Files.write(file, otherLength);
        for (boolean writable : new boolean[] {true, false}) {
            CorruptionException refused = assertThrows(CorruptionException.class, () -> ValueLogStage.open(storage, writable));
            assertEquals(0, refused.offset(), "the magic number is the first byte that is not zero: " + refused.getMessage());
            assertArrayEquals(otherLength, Files.readAllBytes(file), "writable " + writable);
        }

        byte[] neverBegun = new byte[ValueLogStage.FILE_BYTES]; // a first begin killed before its magic number
        ByteBuffer.wrap(neverBegun).putInt(ValueLogStage.VERSION_AT, 1).putInt(ValueLogStage.CAPACITY_AT,
                ValueLogStage.CAPACITY).putLong(ValueLogStage.FILE_ID_AT, 3);
        Files.write(file, neverBegun);
        assertNull(ValueLogStage.open(storage, false), "a stage never begun holds nothing");
        try (ValueLogStage stage = ValueLogStage.open(storage, true)) {
            assertNull(stage.pending(), "and opens to be used");
        }

        Files.write(file, new byte[1000]); // a creation a crash stopped: only zeros
        try (ValueLogStage stage = ValueLogStage.open(storage, true)) {
            assertNull(stage.pending());
        }
        assertEquals(ValueLogStage.HEADER_BYTES + ValueLogStage.CAPACITY, Files.size(file), "made anew");
    }

    /**
     * A stage file of another length is refused if any byte of it is not zero, also one past the
     * length of a stage file, with the offset of that byte, writable and read-only, through a
     * storage that maps files and one that cannot.
     */
    @Test
    void aStageOfAnotherLengthIsRefusedForAByteThatIsNotZeroAnywhereInIt() throws Exception {
        Path file = dir.resolve(FileNames.VALUE_LOG_STAGE);
        for (boolean mapping : new boolean[] {true, false}) {
            FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir), (op, name) -> { });
            if (!mapping) {
                storage.withoutMappings();
            }
            byte[] longer = new byte[ValueLogStage.FILE_BYTES + 8192];
            Files.write(file, longer);
            assertNull(ValueLogStage.open(storage, false), "only zeros: a creation a crash stopped, mapping " + mapping);
            longer[ValueLogStage.FILE_BYTES + 5000] = 7;
            Files.write(file, longer);
            for (boolean writable : new boolean[] {true, false}) {
                CorruptionException refused = assertThrows(CorruptionException.class,
                        () -> ValueLogStage.open(storage, writable), "mapping " + mapping + ", writable " + writable);
                assertEquals(ValueLogStage.FILE_BYTES + 5000L, refused.offset(), refused.getMessage());
                assertEquals(FileNames.VALUE_LOG_STAGE, refused.fileName());
            }
            assertArrayEquals(longer, Files.readAllBytes(file), "left as it is, mapping " + mapping);
        }
    }

    @Test
    void anEntryLongerThanTheStageGoesThroughItsMappingNotThroughADirectBufferOfItsSize() throws Exception {
        Storage storage = NioStorage.open(dir);
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct")).findFirst().orElseThrow();
        byte[] large = value(1, 3 * ValueLogStage.CAPACITY + 100);
        try (ValueLog log = open(storage, 1L << 30)) {
            byte[] small = new byte[ValuePointer.SIZE];
            log.add(key(0), 1, value(0, 2000), small);
            long before = direct.getMemoryUsed();
            byte[] pointer = new byte[ValuePointer.SIZE];
            long[] grownBy = new long[1];
            Thread leader = new Thread(() -> { // a thread of its own, whose temporary-buffer cache starts empty
                try {
                    log.add(key(1), 2, large, pointer);
                    grownBy[0] = direct.getMemoryUsed() - before; // before the thread ends and frees its cache
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            leader.start();
            leader.join();
            long grown = grownBy[0];
            assertTrue(grown < ValueLogStage.CAPACITY, "direct memory grew by " + grown + " bytes");
            log.add(key(2), 3, value(2, 2000), small);
            log.publishAppended();
            assertArrayEquals(large, log.read(ValuePointer.decode(pointer)));
            assertArrayEquals(value(2, 2000), log.read(ValuePointer.decode(small)));
        }
    }

    private static ValueLog open(Storage storage, long fileSizeLimit) throws IOException {
        AtomicLong fileNumbers = new AtomicLong(1);
        ValueLogStage stage = ValueLogStage.open(storage, true);
        assertNotNull(stage, "a real directory has a stage");
        return ValueLog.open(storage, List.of(), Set.of(), fileSizeLimit, false, fileNumbers::getAndIncrement,
                (name, size) -> { }, false, stage);
    }

    /** Stages {@code entries} for value-log file {@code fileId} from {@code base} and leaves them there, as a killed process does. */
    private static void stageAll(Storage storage, long fileId, long base, List<byte[]> entries) throws IOException {
        try (ValueLogStage stage = ValueLogStage.open(storage, true)) {
            stage.begin(fileId, base);
            for (byte[] entry : entries) {
                stageEntry(stage, entry);
            }
        }
    }

    private static void stageEntry(ValueLogStage stage, byte[] entry) throws IOException {
        int headLength = VlogFormat.HEADER_SIZE + 16;
        stage.add(entry, headLength, Arrays.copyOfRange(entry, headLength, entry.length), ByteBuffer.wrap(entry).getInt(0),
                entry.length);
    }

    /** A whole value-log entry with a 16-byte key and {@code valueLength} bytes of value. */
    private static byte[] entry(long version, int valueLength) {
        byte[] key = key(version);
        byte[] value = value(version, valueLength);
        ByteBuffer entry = ByteBuffer.allocate(VlogFormat.entryLength(key.length, valueLength));
        entry.putInt(0).putLong(version).putInt(key.length).putInt(valueLength).put(key).put(value);
        CRC32C crc = new CRC32C();
        crc.update(entry.array(), 4, entry.capacity() - 4);
        entry.putInt(0, (int) crc.getValue());
        return entry.array();
    }

    private static byte[] key(long i) {
        byte[] key = new byte[16];
        Bytes.putLongBigEndian(key, 0, i);
        return key;
    }

    private static byte[] value(long i, int length) {
        byte[] value = new byte[length];
        new Random(i).nextBytes(value);
        return value;
    }

    private static byte[] concat(List<byte[]> parts) {
        ByteBuffer all = ByteBuffer.allocate(parts.stream().mapToInt(p -> p.length).sum());
        parts.forEach(all::put);
        return all.array();
    }

    private static void write(Path file, long at, byte[] bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(bytes), at);
        }
    }
}
