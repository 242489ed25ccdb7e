package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.FaultInjectingStorage.Hook;
import io.trainkv.FaultInjectingStorage.Op;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.util.Bytes;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An {@link Error} in the write path or in background work (an {@link OutOfMemoryError}, as the
 * JDK throws when it cannot reserve direct buffer memory for a large write) in the group-commit
 * leader, the flusher, a compaction or automatic value-log GC: every waiting writer gets an
 * exception, later writes are refused, {@code close()} returns and releases the directory lock,
 * and a reopen of the directory sees every acknowledged write. The timeouts only guard against
 * the hangs this used to cause; they measure nothing.
 */
class ErrorInWritePathTest {

    private static final Duration HANG_GUARD = Duration.ofSeconds(30);
    private static final int FOLLOWERS = 4;

    @TempDir
    Path tempDir;

    private final Map<String, byte[]> acknowledged = new HashMap<>();

    @Test
    void anErrorInTheGroupLeaderFailsItsWholeGroupAndLaterWritesAndCloseReleasesTheLock() throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        CountDownLatch walSyncEntered = new CountDownLatch(1);
        CountDownLatch releaseWalSync = new CountDownLatch(1);
        CountDownLatch outOfMemory = new CountDownLatch(1);
        Hook valueLogOutOfMemory = FaultInjectingStorage.outOfMemory(Op.APPEND, ErrorInWritePathTest::isValueLog,
                outOfMemory);
        ExecutorService pool = Executors.newFixedThreadPool(2 + FOLLOWERS);
        try {
            assertTimeoutPreemptively(HANG_GUARD, () -> {
                TrainKV db = TrainKV.open(Options.at(dir).storage(storage));
                writeKeys(db, "before", 20);
                db.sync(); // the value-log stage holds nothing: the blocker's sync writes nothing to the value log
                // every value-log append fails from now on, as a write larger than the direct memory left does
                Hook holdWalSync = GroupCommitTest.holdFirstWalSync(walSyncEntered, releaseWalSync);
                storage.hook = (op, name) -> {
                    holdWalSync.before(op, name);
                    valueLogOutOfMemory.before(op, name);
                };
                Future<?> blocker = pool.submit(() -> db.write(new WriteBatch().set("blocker", "1"), true));
                GroupCommitTest.await(walSyncEntered);
                Future<?> leader = pool.submit(() -> db.set(Bytes.utf8("big"), new byte[3 * 1024 * 1024]));
                GroupCommitTest.awaitQueuedWriters(db, 2);
                List<Future<?>> followers = new ArrayList<>();
                for (int f = 0; f < FOLLOWERS; f++) {
                    String key = "follower-" + f;
                    followers.add(pool.submit(() -> db.set(key, "1")));
                }
                GroupCommitTest.awaitQueuedWriters(db, 2 + FOLLOWERS);
                releaseWalSync.countDown();
                blocker.get();
                acknowledged.put("blocker", Bytes.utf8("1"));
                ExecutionException leaderFailure = assertThrows(ExecutionException.class, leader::get);
                assertInstanceOf(OutOfMemoryError.class, leaderFailure.getCause(), "the leader's caller gets the Error");
                for (Future<?> follower : followers) {
                    ExecutionException failure = assertThrows(ExecutionException.class, follower::get);
                    assertInstanceOf(StorageException.class, failure.getCause());
                    assertTrue(CapturedLogs.causedBy(failure.getCause(), OutOfMemoryError.class), failure.toString());
                }
                assertRefusesWrites(db);
                db.close();
            });
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, outOfMemory.getCount(), "the Error was injected");
        reopenAndVerify(dir);
    }

    /**
     * An exception the leader does not expect (here a checked write whose filter returns no batch,
     * a bug of the caller's) reaches that caller and fails the pipeline like an {@link Error}; the
     * leader still hands the lead on, so later writes are refused instead of waiting forever
     * behind it, and {@code close()} returns.
     */
    @Test
    void anUnexpectedExceptionInTheLeaderStrandsNoLaterWriter() throws Exception {
        Path dir = tempDir.resolve("db");
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            TrainKV db = TrainKV.open(Options.at(dir));
            writeKeys(db, "before", 20);
            assertThrows(NullPointerException.class,
                    () -> db.pipeline().writeChecked(new WriteBatch().set("checked", "1"), batch -> null, false));
            assertRefusesWrites(db);
            db.close();
        });
        reopenAndVerify(dir);
    }

    @Test
    void anErrorInTheFlusherFailsTheFlushAndLaterWritesAndCloseReleasesTheLock() throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        CountDownLatch outOfMemory = new CountDownLatch(1);
        try (CapturedLogs logs = new CapturedLogs()) {
            assertTimeoutPreemptively(HANG_GUARD, () -> {
                TrainKV db = TrainKV.open(Options.at(dir).storage(storage));
                writeKeys(db, "before", 100);
                storage.hook = FaultInjectingStorage.outOfMemory(Op.CREATE, ErrorInWritePathTest::isTable, outOfMemory);
                StorageException flush = assertThrows(StorageException.class, db::flush);
                assertTrue(CapturedLogs.causedBy(flush, OutOfMemoryError.class), flush.toString());
                assertRefusesWrites(db);
                db.close();
            });
            assertTrue(logs.has(Level.SEVERE, "flush failed", OutOfMemoryError.class), logs.toString());
        }
        assertEquals(0, outOfMemory.getCount(), "the Error was injected");
        reopenAndVerify(dir);
    }

    @Test
    void anErrorWhileAFlushWritesATableDeletesThePartialTable() throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        CountDownLatch outOfMemory = new CountDownLatch(1);
        try (CapturedLogs logs = new CapturedLogs()) {
            assertTimeoutPreemptively(HANG_GUARD, () -> {
                TrainKV db = TrainKV.open(Options.at(dir).storage(storage).gcInterval(Duration.ZERO));
                writeKeys(db, "before", 100);
                storage.hook = FaultInjectingStorage.outOfMemory(Op.APPEND, ErrorInWritePathTest::isTable, outOfMemory);
                assertThrows(StorageException.class, db::flush);
                assertEquals(List.of(), storage.list().stream().filter(ErrorInWritePathTest::isTable).toList(),
                        "the table the flush was writing is deleted");
                db.close();
            });
        }
        assertEquals(0, outOfMemory.getCount(), "the Error was injected");
        reopenAndVerify(dir);
    }

    @Test
    void anErrorInABackgroundCompactionStopsWritesAndCloseReleasesTheLock() throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        CountDownLatch outOfMemory = new CountDownLatch(1);
        Hook tableOutOfMemory = FaultInjectingStorage.outOfMemory(Op.CREATE, ErrorInWritePathTest::isTable,
                outOfMemory);
        try (CapturedLogs logs = new CapturedLogs()) {
            assertTimeoutPreemptively(HANG_GUARD, () -> {
                TrainKV db = TrainKV.open(CompactionTest.smallTree(dir).storage(storage));
                storage.hook = (op, name) -> {
                    if (Thread.currentThread().getName().startsWith("trainkv-compaction")) {
                        tableOutOfMemory.before(op, name);
                    }
                };
                try {
                    for (int round = 0; round < 6; round++) { // overlapping flushes: level 0 reaches its trigger (4 sublevels)
                        writeKeys(db, "round", 200);
                        db.flush();
                    }
                    db.waitForCompactions();
                } catch (StorageException refused) {
                    // the failed compaction stopped writes while this thread was still writing
                }
                assertRefusesWrites(db);
                db.close();
            });
            assertTrue(logs.has(Level.SEVERE, "failed; the database refuses writes", OutOfMemoryError.class),
                    logs.toString());
        }
        assertEquals(0, outOfMemory.getCount(), "the Error was injected");
        reopenAndVerify(dir);
    }

    @Test
    void anErrorInAForcedCompactionReachesTheCallerAndStopsWrites() throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        CountDownLatch outOfMemory = new CountDownLatch(1);
        Hook tableOutOfMemory = FaultInjectingStorage.outOfMemory(Op.CREATE, ErrorInWritePathTest::isTable,
                outOfMemory);
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            TrainKV db = TrainKV.open(CompactionTest.smallTree(dir).storage(storage));
            writeKeys(db, "before", 500);
            db.flush();
            writeKeys(db, "again", 50);
            writeKeys(db, "before", 50); // overlaps the flushed tables, so flatten merges rather than moves
            Thread caller = Thread.currentThread();
            storage.hook = (op, name) -> {
                if (Thread.currentThread() == caller) {
                    tableOutOfMemory.before(op, name);
                }
            };
            assertThrows(OutOfMemoryError.class, db::flatten);
            assertRefusesWrites(db);
            db.close();
        });
        assertEquals(0, outOfMemory.getCount(), "the Error was injected");
        reopenAndVerify(dir);
    }

    @Test
    void anErrorInAutomaticValueLogGcStopsWritesAndCloseReleasesTheLock() throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        CountDownLatch outOfMemory = new CountDownLatch(1);
        Hook manifestOutOfMemory = FaultInjectingStorage.outOfMemory(Op.APPEND,
                name -> FileNames.parseManifest(name) >= 0, outOfMemory);
        Options options = Options.at(dir).storage(storage).valueThreshold(64).valueLogFileSize(64 * 1024)
                .gcInterval(Duration.ofMillis(10)).gcDiscardRatio(0.5);
        try (CapturedLogs logs = new CapturedLogs()) {
            assertTimeoutPreemptively(HANG_GUARD, () -> {
                TrainKV db = TrainKV.open(options);
                // GC fails where it records a collected file in the manifest
                storage.hook = (op, name) -> {
                    if (Thread.currentThread().getName().equals("trainkv-vlog-gc")) {
                        manifestOutOfMemory.before(op, name);
                    }
                };
                try {
                    for (int round = 0; round < 3; round++) { // the first value-log files end up dead
                        for (int i = 0; i < 200; i++) {
                            set(db, "key-" + i, value(i + round, 500));
                        }
                    }
                    GroupCommitTest.await(outOfMemory);
                    for (int i = 0; ; i++) { // until the failure reaches the write path
                        set(db, "probe-" + i, value(i, 10));
                        Thread.sleep(1);
                    }
                } catch (StorageException refused) {
                    assertTrue(refused.getMessage().contains("refuses writes until reopened"), refused.getMessage());
                    assertTrue(CapturedLogs.causedBy(refused, OutOfMemoryError.class), refused.toString());
                }
                assertRefusesWrites(db);
                db.close();
            });
            assertTrue(logs.has(Level.SEVERE, "value-log GC", OutOfMemoryError.class), logs.toString());
        }
        reopenAndVerify(dir);
    }

    @Test
    void anErrorInValueLogGcRunByHandReachesTheCallerAndStopsWrites() throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        CountDownLatch outOfMemory = new CountDownLatch(1);
        Options options = Options.at(dir).storage(storage).valueThreshold(64).valueLogFileSize(64 * 1024)
                .gcInterval(Duration.ZERO);
        try (CapturedLogs logs = new CapturedLogs()) {
            assertTimeoutPreemptively(HANG_GUARD, () -> {
                TrainKV db = TrainKV.open(options);
                for (int round = 0; round < 3; round++) { // the first value-log files end up dead
                    for (int i = 0; i < 200; i++) {
                        set(db, "key-" + i, value(i + round, 500));
                    }
                }
                db.flatten();
                // GC fails where it records a collected file in the manifest
                storage.hook = FaultInjectingStorage.outOfMemory(Op.APPEND, name -> FileNames.parseManifest(name) >= 0,
                        outOfMemory);
                assertThrows(OutOfMemoryError.class, () -> db.runValueLogGC(0.5));
                storage.hook = (op, name) -> { };
                assertRefusesWrites(db);
                db.close();
            });
        }
        assertEquals(0, outOfMemory.getCount(), "the Error was injected");
        reopenAndVerify(dir);
    }

    @Test
    void anErrorWhileClosingStillReleasesTheLockAndReachesTheCaller() throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        CountDownLatch outOfMemory = new CountDownLatch(1);
        try (CapturedLogs logs = new CapturedLogs()) {
            assertTimeoutPreemptively(HANG_GUARD, () -> {
                TrainKV db = TrainKV.open(Options.at(dir).storage(storage).gcInterval(Duration.ZERO));
                writeKeys(db, "before", 20);
                // close fsyncs the value log's unsynced entries: that step fails, the later ones still run
                storage.hook = FaultInjectingStorage.outOfMemory(Op.SYNC, ErrorInWritePathTest::isValueLog, outOfMemory);
                assertThrows(OutOfMemoryError.class, db::close);
                assertThrows(IllegalStateException.class, () -> db.get("before-0"));
            });
        }
        assertEquals(0, outOfMemory.getCount(), "the Error was injected");
        reopenAndVerify(dir);
    }

    /**
     * An {@link Error} while recovering (out of memory replaying a WAL, after the tables are open)
     * fails the open with that Error, and the open closes every file it opened and releases the
     * directory lock, so that a later open of the directory in the same process succeeds.
     */
    @Test
    void anErrorWhileOpeningClosesWhatItOpenedAndReleasesTheDirectoryLock() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            writeKeys(db, "flushed", 20);
            db.flush();
            writeKeys(db, "in-wal", 20);
        }
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        CountDownLatch outOfMemory = new CountDownLatch(1);
        storage.hook = FaultInjectingStorage.outOfMemory(Op.OPEN_READ,
                name -> FileNames.parseNumber(name, FileNames.Kind.WAL) >= 0, outOfMemory);
        assertThrows(OutOfMemoryError.class, () -> TrainKV.open(Options.at(dir).storage(storage).mmap(false)));
        assertEquals(0, outOfMemory.getCount(), "the open met the injected error");
        assertEquals(0, storage.openReadFiles(), "files the failed open left open");
        reopenAndVerify(dir);
    }

    private void writeKeys(TrainKV db, String prefix, int count) {
        for (int i = 0; i < count; i++) {
            set(db, prefix + "-" + i, value(i, i % 2 == 0 ? 20 : 2000)); // every other one in the value log
        }
    }

    private void set(TrainKV db, String key, byte[] value) {
        db.set(Bytes.utf8(key), value);
        acknowledged.put(key, value);
    }

    private static byte[] value(int seed, int length) {
        byte[] value = new byte[length];
        Arrays.fill(value, (byte) seed);
        return value;
    }

    private static void assertRefusesWrites(TrainKV db) {
        StorageException later = assertThrows(StorageException.class, () -> db.set("later", "1"));
        assertTrue(later.getMessage().contains("refuses writes until reopened"), later.getMessage());
    }

    /** A new open of the directory (so its lock was released) sees every acknowledged write and takes new ones. */
    private void reopenAndVerify(Path dir) {
        try (TrainKV db = TrainKV.open(Options.at(dir).gcInterval(Duration.ZERO))) {
            for (Map.Entry<String, byte[]> e : acknowledged.entrySet()) {
                assertArrayEquals(e.getValue(), db.get(Bytes.utf8(e.getKey())), e.getKey());
            }
            db.set("after-reopen", "1");
            db.flush();
            assertEquals("1", db.get("after-reopen"));
        }
    }

    private static boolean isValueLog(String name) {
        return FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG) >= 0;
    }

    private static boolean isTable(String name) {
        return FileNames.parseNumber(name, FileNames.Kind.TABLE) >= 0;
    }
}
