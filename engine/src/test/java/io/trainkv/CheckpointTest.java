package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.FaultInjectingStorage.Op;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.util.ValueStruct;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Checkpoints: a consistent copy at one version, taken while writes and background work go on. */
class CheckpointTest {

    /** Keys the concurrent writers choose from. */
    static final int KEY_SPACE = 2_000;
    /** Values at or above this many bytes go to the value log. */
    static final int VALUE_THRESHOLD = 256;
    /** Seconds of the long run, when {@code -Dtrainkv.soak.checkpoint.seconds} is given; else a short run. */
    private static final long SOAK_SECONDS = Long.getLong("trainkv.soak.checkpoint.seconds", 0);

    @TempDir
    Path tempDir;

    /** A small tree with separated values and small value-log files, so that every background job runs often. */
    static Options busyOptions(Path dir) {
        return ValueLogTest.separated(dir, VALUE_THRESHOLD).valueLogFileSize(64 * 1024);
    }

    static byte[] key(int i) {
        return String.format("k%05d", i).getBytes(StandardCharsets.US_ASCII);
    }

    /** A value naming its writer and sequence number; every fourth one short enough to stay in the LSM. */
    static byte[] value(int writer, long sequence) {
        int length = sequence % 4 == 0 ? 40 : 300 + (int) (sequence % 900);
        byte[] value = new byte[length];
        for (int i = 0; i < length; i++) {
            value[i] = (byte) (writer * 131 + sequence * 7 + i);
        }
        return value;
    }

    /**
     * Four threads write (sets and deletes in small batches) and drive the background work: one
     * also flushes, one compacts, one runs value-log GC, until {@link #stop}.
     */
    static final class Load implements AutoCloseable {
        private final ExecutorService threads = Executors.newFixedThreadPool(4);
        private final List<Future<?>> running = new ArrayList<>();
        private final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong batches = new AtomicLong();

        Load(TrainKV db) {
            for (int t = 0; t < 4; t++) {
                int writer = t;
                running.add(threads.submit(() -> {
                    long sequence = 0;
                    while (!stop.get()) {
                        WriteBatch batch = new WriteBatch();
                        for (int i = 0; i < 4; i++) {
                            sequence++;
                            int k = (int) ((sequence * 7919 + writer * 104729) % KEY_SPACE);
                            if (sequence % 10 == 3) {
                                batch.delete(key(k));
                            } else {
                                batch.set(key(k), value(writer, sequence));
                            }
                        }
                        db.write(batch);
                        batches.incrementAndGet();
                        if (sequence % 400 == 0) {
                            switch (writer) {
                                case 1 -> db.flush();
                                case 2 -> db.compactRange(key((int) (sequence % KEY_SPACE)), null);
                                case 3 -> db.runValueLogGC(0.2);
                                default -> { }
                            }
                        }
                    }
                    return null;
                }));
            }
        }

        /** Waits until the writers have written {@code more} batches since the call. */
        void awaitProgress(long more) throws Exception {
            long target = batches.get() + more;
            while (batches.get() < target) {
                checkFailures();
                Thread.sleep(1);
            }
        }

        private void checkFailures() throws Exception {
            for (Future<?> f : running) {
                if (f.isDone()) {
                    f.get();
                }
            }
        }

        /** Stops the threads and rethrows the first failure. */
        void stop() throws Exception {
            stop.set(true);
            for (Future<?> f : running) {
                f.get();
            }
        }

        @Override
        public void close() {
            stop.set(true);
            threads.shutdownNow();
        }
    }

    /** The bytes an entry as stored stands for: the value-log value for a pointer. */
    static byte[] resolved(TrainKV db, ValueStruct entry) throws IOException {
        return entry.isValuePointer() ? db.valueLog().read(entry.pointer()) : entry.value();
    }

    /**
     * Asserts that {@code copy} reads, key by key, what {@code source} reads at {@code version}
     * (a snapshot at or below {@code version} must be held in {@code source}, so that nothing is
     * compacted or collected away): same entry version, same tombstones, same bytes; and that the
     * copy holds no key outside the key space.
     */
    static void assertSameAt(TrainKV source, long version, TrainKV copy) throws IOException {
        int live = 0;
        for (int k = 0; k < KEY_SPACE; k++) {
            ValueStruct expected = source.entryAt(key(k), version);
            ValueStruct actual = copy.entryAt(key(k), version);
            // compaction drops a bottom-level tombstone with what it deleted: absent either way
            if (expected == null || expected.isTombstone()) {
                assertTrue(actual == null || actual.isTombstone(), "key " + k + " is absent at " + version
                        + " but the copy holds version " + (actual == null ? 0 : actual.version()));
                continue;
            }
            live++;
            assertEquals(expected.version(), actual.version(), "version of key " + k);
            assertFalse(actual.isTombstone(), "key " + k);
            assertArrayEquals(resolved(source, expected), copy.get(key(k)), "value of key " + k);
        }
        int seen = 0;
        try (DbIterator it = copy.iterator()) {
            for (it.seekToFirst(); it.valid(); it.next()) {
                seen++;
            }
        }
        assertEquals(live, seen, "live keys in the copy");
    }

    @Test
    @Timeout(120)
    void checkpointsTakenUnderLoadEqualASnapshotAtTheirVersion() throws Exception {
        Path source = tempDir.resolve("db");
        List<Long> versions = new ArrayList<>();
        List<Transaction> pins = new ArrayList<>();
        List<Path> checkpoints = new ArrayList<>();
        try (TrainKV db = TrainKV.open(busyOptions(source)); Load load = new Load(db)) {
            long deadline = System.nanoTime() + SOAK_SECONDS * 1_000_000_000L;
            int taken = 0;
            while (taken < 4 || System.nanoTime() < deadline) {
                load.awaitProgress(150);
                pins.add(db.snapshot()); // keeps every version the checkpoint's version sees
                Path target = tempDir.resolve("cp" + taken++);
                checkpoints.add(target);
                versions.add(db.checkpoint(target));
            }
            load.stop();
            assertTrue(db.stats().valueLogFiles().size() > 1, "the load sealed value-log files");
            for (int i = 0; i < checkpoints.size(); i++) {
                try (TrainKV copy = TrainKV.open(busyOptions(checkpoints.get(i)))) {
                    assertSameAt(db, versions.get(i), copy);
                    assertEquals(versions.get(i), copy.stats().lastVersion(), "the checkpoint's version");
                }
            }
            for (Transaction pin : pins) {
                pin.close();
            }
        }
    }

    @Test
    void linksTablesAndSealedValueLogsAndChangesNothingInTheSource() throws Exception {
        Path source = tempDir.resolve("db");
        Path target = tempDir.resolve("cp");
        try (TrainKV db = TrainKV.open(busyOptions(source))) {
            for (int i = 0; i < 3_000; i++) {
                db.set(key(i % KEY_SPACE), value(0, i));
            }
            db.waitForCompactions(); // no background job changes the source from here on
            db.set(key(1), value(1, 1)); // in the active WAL and the value-log stage only
            String active = FileNames.name(db.valueLog().activeFileId(), FileNames.Kind.VALUE_LOG);
            byte[] activeBefore = Files.readAllBytes(source.resolve(active));
            Map<String, Long> before = checksums(source);
            long version = db.checkpoint(target);
            Map<String, Long> after = checksums(source);
            byte[] activeAfter = Files.readAllBytes(source.resolve(active));
            assertTrue(activeAfter.length > activeBefore.length, "the write path wrote the staged entries to their file");
            assertArrayEquals(activeBefore, Arrays.copyOf(activeAfter, activeBefore.length), "by appending them");
            for (Map<String, Long> sums : List.of(before, after)) {
                sums.keySet().removeAll(Set.of(active, FileNames.VALUE_LOG_STAGE));
            }
            assertEquals(before, after, "every other source file, byte for byte, after the checkpoint");
            assertEquals(db.stats().lastVersion(), version);

            NioStorage copy = NioStorage.open(target);
            int linked = 0;
            for (String name : copy.list()) {
                if (FileNames.parseManifest(name) >= 0 || name.equals(FileNames.CURRENT) || name.equals(FileNames.LOCK)) {
                    continue; // written fresh for the checkpoint
                }
                boolean immutable = FileNames.parseNumber(name, FileNames.Kind.TABLE) >= 0
                        || (FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG) >= 0
                        && FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG) != db.valueLog().activeFileId());
                boolean same = Files.isSameFile(source.resolve(name), target.resolve(name));
                assertEquals(immutable, same, name + " linked");
                linked += same ? 1 : 0;
            }
            assertTrue(linked > 2, "tables and sealed value-log files linked: " + copy.list());
            String activeWal = FileNames.name(db.pipeline().memtables().get(0).walNumber(), FileNames.Kind.WAL);
            db.set(key(2), value(2, 2)); // after the checkpoint: the copies must not see it
            assertTrue(Files.size(source.resolve(activeWal)) > Files.size(target.resolve(activeWal)));
            try (TrainKV cp = TrainKV.open(busyOptions(target))) {
                assertArrayEquals(value(1, 1), cp.get(key(1)));
                assertArrayEquals(value(0, 2_002), cp.get(key(2)));
                cp.set(key(1), "changed in the checkpoint".getBytes(StandardCharsets.UTF_8));
            }
            assertArrayEquals(value(1, 1), db.get(key(1)), "the source does not see the checkpoint's writes");
        }
    }

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void copiesThroughTheStorageSeamWhereItCannotLink(FileSystemKind kind) throws Exception {
        Path dir = kind.newDirectory(tempDir);
        Path target = dir.resolveSibling("cp");
        // a custom storage: the engine cannot link through it, so every file is copied
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir), (op, name) -> { });
        long version;
        try (TrainKV db = TrainKV.open(busyOptions(dir).storage(storage))) {
            for (int i = 0; i < 2_000; i++) {
                db.set(key(i), value(0, i));
            }
            db.flush();
            db.delete(key(5));
            version = db.checkpoint(target);
            for (String name : NioStorage.open(target).list()) {
                if (FileNames.parseManifest(name) >= 0 || name.equals(FileNames.CURRENT) || name.equals(FileNames.LOCK)) {
                    continue;
                }
                assertFalse(Files.isSameFile(dir.resolve(name), target.resolve(name)), name + " copied");
            }
        }
        try (TrainKV cp = TrainKV.open(busyOptions(target))) {
            assertEquals(version, cp.stats().lastVersion());
            assertNull(cp.get(key(5)));
            for (int i = 0; i < 2_000; i++) {
                if (i != 5) {
                    assertArrayEquals(value(0, i), cp.get(key(i)), "key " + i);
                }
            }
        }
    }

    @Test
    void refusesATargetThatHoldsAnythingAndLeavesItAlone() throws Exception {
        Path target = Files.createDirectories(tempDir.resolve("cp"));
        Files.writeString(target.resolve("notes.txt"), "mine");
        Path file = Files.writeString(tempDir.resolve("file"), "x");
        try (TrainKV db = TrainKV.open(busyOptions(tempDir.resolve("db")))) {
            db.set("a", "1");
            assertThrows(IllegalArgumentException.class, () -> db.checkpoint(target));
            assertThrows(IllegalArgumentException.class, () -> db.checkpoint(file));
            assertEquals(List.of("notes.txt"), NioStorage.open(target).list());
            Files.delete(target.resolve("notes.txt"));
            db.checkpoint(target); // an empty directory is fine
            assertTrue(Files.exists(target.resolve(FileNames.CURRENT)));
        }
    }

    @Test
    void aFailedCheckpointLeavesNoFileBehindAndTheSourceWritable() throws Exception {
        Path dir = tempDir.resolve("db");
        Path target = tempDir.resolve("cp");
        AtomicBoolean failReads = new AtomicBoolean();
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir), (op, name) -> {
            if (failReads.get() && op == Op.READ && FileNames.parseNumber(name, FileNames.Kind.WAL) >= 0) {
                throw new IOException("injected read failure on " + name);
            }
        });
        try (TrainKV db = TrainKV.open(busyOptions(dir).storage(storage))) {
            for (int i = 0; i < 2_000; i++) {
                db.set(key(i), value(0, i));
            }
            failReads.set(true);
            StorageException e = assertThrows(StorageException.class, () -> db.checkpoint(target));
            assertTrue(e.getMessage().contains("injected read failure"), e.getMessage());
            assertEquals(List.of(), NioStorage.open(target).list(), "files of the failed checkpoint");
            failReads.set(false);
            db.set("after", "failure");
            assertEquals("failure", db.get("after"));
            db.checkpoint(target);
        }
        try (TrainKV cp = TrainKV.open(busyOptions(target))) {
            assertArrayEquals(value(0, 1_999), cp.get(key(1_999)));
        }
    }

    @Test
    void filesThatBecomeObsoleteWhileTheCheckpointCopiesStayUntilItIsDone() throws Exception {
        Path dir = tempDir.resolve("db");
        Path target = tempDir.resolve("cp");
        AtomicBoolean armed = new AtomicBoolean();
        AtomicBoolean inHook = new AtomicBoolean();
        TrainKV[] opened = new TrainKV[1];
        String[] copiedWal = new String[1];
        List<String> deletedDuringHook = new ArrayList<>();
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir), (op, name) -> {
            if (op == Op.DELETE && inHook.get()) {
                deletedDuringHook.add(name);
            }
            if (op == Op.OPEN_READ && FileNames.parseNumber(name, FileNames.Kind.WAL) >= 0 && armed.getAndSet(false)) {
                // the checkpoint is about to copy a WAL: flush it away and rewrite the manifest (it
                // outgrows manifestRewriteSize), which deletes obsolete files unless they are held
                copiedWal[0] = name;
                inHook.set(true);
                for (int i = 0; i < 60; i++) {
                    opened[0].set(key(KEY_SPACE + i), value(9, i));
                    opened[0].flush();
                }
                inHook.set(false);
            }
        });
        long version;
        try (TrainKV db = TrainKV.open(busyOptions(dir).manifestRewriteSize(4096).storage(storage))) {
            opened[0] = db;
            for (int i = 0; i < 500; i++) {
                db.set(key(i), value(0, i));
            }
            armed.set(true);
            version = db.checkpoint(target);
            assertTrue(copiedWal[0] != null, "the hook ran");
            assertTrue(deletedDuringHook.stream().anyMatch(n -> FileNames.parseManifest(n) >= 0),
                    "the manifest was rewritten meanwhile: " + deletedDuringHook);
            assertTrue(deletedDuringHook.stream().noneMatch(n -> FileNames.parseNumber(n, FileNames.Kind.WAL) >= 0
                    || FileNames.parseNumber(n, FileNames.Kind.TABLE) >= 0), "held: " + deletedDuringHook);
        }
        assertFalse(Files.exists(dir.resolve(copiedWal[0])), "deleted after the hold ended");
        try (TrainKV cp = TrainKV.open(busyOptions(target))) {
            assertEquals(version, cp.stats().lastVersion());
            for (int i = 0; i < 500; i++) {
                assertArrayEquals(value(0, i), cp.get(key(i)), "key " + i);
            }
            assertNull(cp.get(key(KEY_SPACE)), "written after the checkpoint's version");
        }
    }

    @Test
    void aCheckpointCutShortBeforeItsCurrentIsNeverOpenedAsADatabase() throws Exception {
        Path target = tempDir.resolve("cp");
        try (TrainKV db = TrainKV.open(busyOptions(tempDir.resolve("db")))) {
            for (int i = 0; i < 2_000; i++) {
                db.set(key(i), value(0, i));
            }
            db.flush();
            db.checkpoint(target);
        }
        Files.delete(target.resolve(FileNames.CURRENT)); // what a crash before the last step leaves
        CorruptionException e = assertThrows(CorruptionException.class, () -> TrainKV.open(busyOptions(target)));
        assertEquals(FileNames.CURRENT, e.fileName());
    }

    @Test
    void aReadOnlyDatabaseCanBeCheckpointed() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(busyOptions(dir))) {
            for (int i = 0; i < 1_000; i++) {
                db.set(key(i), value(0, i));
            }
        }
        Path target = tempDir.resolve("cp");
        try (TrainKV db = TrainKV.open(busyOptions(dir).readOnly(true))) {
            db.checkpoint(target);
        }
        try (TrainKV cp = TrainKV.open(busyOptions(target).readOnly(true))) { // its LOCK file is there
            for (int i = 0; i < 1_000; i++) {
                assertArrayEquals(value(0, i), cp.get(key(i)), "key " + i);
            }
        }
    }

    /** Name to CRC32C and size of every file in {@code dir}. */
    /**
     * A checksum and length per file; a log's zero tail is left out: the active WAL and value-log
     * file are preallocated with zeros ahead of their appends on a background thread, at any time.
     */
    static Map<String, Long> checksums(Path dir) throws IOException {
        Map<String, Long> sums = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                CRC32C crc = new CRC32C();
                byte[] bytes = Files.readAllBytes(f);
                String name = f.getFileName().toString();
                int length = bytes.length;
                if (FileNames.parseNumber(name, FileNames.Kind.WAL) >= 0
                        || FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG) >= 0) {
                    while (length > 0 && bytes[length - 1] == 0) {
                        length--;
                    }
                }
                crc.update(bytes, 0, length);
                sums.put(name, crc.getValue() ^ ((long) length << 32));
            }
        }
        return sums;
    }
}
