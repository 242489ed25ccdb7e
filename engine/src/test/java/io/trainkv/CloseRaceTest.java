package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.trainkv.manifest.VersionSet;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.wal.RecordFraming;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Closing the database while other threads use it, and logs whose torn tail looks like records. */
class CloseRaceTest {

    @TempDir
    Path tempDir;

    @Test
    void closingTheDatabaseWhileAnotherThreadIteratesNeverUnmapsUnderIt() throws Exception {
        TrainKV db = TrainKV.open(Options.at(tempDir.resolve("db")).level0Triggers(100, 200, 300));
        int n = 100_000;
        for (int i = 0; i < n; i++) {
            db.set(String.format("k%07d", i), "v".repeat(100));
        }
        db.flush();
        for (int i = 0; i < n; i++) {
            db.delete(String.format("k%07d", i));
        }
        db.flush();
        DbIterator it = db.iterator();
        CountDownLatch scanning = new CountDownLatch(1);
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            try {
                while (true) {
                    scanning.countDown();
                    it.seekToFirst();
                }
            } catch (IllegalStateException expected) {
                // the database or iterator closed between two calls
            } catch (Throwable t) {
                unexpected.set(t);
            }
        });
        reader.start();
        scanning.await();
        db.close();
        reader.join();
        assertNull(unexpected.get());
        assertThrows(IllegalStateException.class, it::seekToFirst);
    }

    /** A read of a value-log value, again and again until the database closes under it. */
    @FunctionalInterface
    private interface ValueLogRead {
        void read(TrainKV db, byte[] key);
    }

    /** More than half a 64 KiB value-log file: the second value seals the first value's file. */
    private static final int VALUE_BYTES = 40_000;

    private static final ValueLogRead GET = (db, key) -> assertEquals(VALUE_BYTES, db.get(key).length);

    private static final ValueLogRead TRANSACTION_GET = (db, key) -> {
        try (Transaction txn = db.newTransaction(false)) {
            assertEquals(VALUE_BYTES, txn.get(key).length);
        }
    };

    private static final ValueLogRead ITERATOR_VALUE = (db, key) -> {
        try (DbIterator it = db.iterator()) {
            it.seek(key);
            assertEquals(VALUE_BYTES, it.value().length);
            assertEquals(VALUE_BYTES, it.entry().value().length);
        }
    };

    private static void assertReportsTheClose(Throwable t, String where) {
        if (!(t instanceof IllegalStateException) || !"database is closed".equals(t.getMessage())) {
            throw new AssertionError(where + ": a read racing close must throw IllegalStateException"
                    + " (database is closed)", t);
        }
    }

    /**
     * {@code rounds} rounds of: a reader thread reads two value-log values (one in the active
     * file, one in a sealed file) in a loop while the main thread closes the database: on disk
     * with mapped sealed files in even rounds, on jimfs (positional reads only) in odd ones.
     * Every read returns the value until one throws, which must report the close.
     */
    private void raceReadsWithClose(String name, int rounds, ValueLogRead read) throws Exception {
        byte[] sealedValue = "s".repeat(VALUE_BYTES).getBytes();
        byte[] activeValue = "a".repeat(VALUE_BYTES).getBytes();
        for (int round = 0; round < rounds; round++) {
            FileSystemKind fileSystem = round % 2 == 0 ? FileSystemKind.DISK : FileSystemKind.JIMFS;
            TrainKV db = TrainKV.open(Options.at(fileSystem.newDirectory(tempDir))
                    .valueLogFileSize(64 * 1024).gcInterval(Duration.ZERO));
            db.set("sealed".getBytes(), sealedValue);
            db.set("active".getBytes(), activeValue);
            CountDownLatch reading = new CountDownLatch(1);
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            Thread reader = new Thread(() -> {
                try {
                    while (true) {
                        read.read(db, "sealed".getBytes());
                        read.read(db, "active".getBytes());
                        reading.countDown();
                    }
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
            reader.start();
            reading.await();
            db.close();
            reader.join();
            assertReportsTheClose(outcome.get(), name + " round " + round);
        }
    }

    @Test
    void valueLogReadsRacingCloseReportTheCloseNeverCorruption() throws Exception {
        raceReadsWithClose("get", 200, GET);
        raceReadsWithClose("txn", 100, TRANSACTION_GET);
    }

    @Test
    void anIteratorReadingValueLogValuesRacingCloseReportsTheClose() throws Exception {
        raceReadsWithClose("iterator", 60, ITERATOR_VALUE);
    }

    /**
     * The race made certain: the reader is paused in its table read (after its check that the
     * database is open, before it follows the pointer into the value log) until close has
     * returned, so the value log is closed under it.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aReadPausedBeforeTheValueLogUntilCloseReturnsReportsTheClose(boolean inTransaction) throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        TrainKV db = TrainKV.open(Options.at(dir).storage(storage).mmap(false).gcInterval(Duration.ZERO));
        db.set("k".getBytes(), "v".repeat(VALUE_BYTES).getBytes());
        db.flush();
        CountDownLatch inTable = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            try {
                (inTransaction ? TRANSACTION_GET : GET).read(db, "k".getBytes());
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        storage.hook = (op, name) -> {
            if (op == FaultInjectingStorage.Op.READ && name.endsWith(".sst") && Thread.currentThread() == reader) {
                inTable.countDown();
                try {
                    closed.await();
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException("interrupted while paused in a table read");
                }
            }
        };
        reader.start();
        inTable.await();
        db.close();
        closed.countDown();
        reader.join();
        assertReportsTheClose(outcome.get(), inTransaction ? "transaction get" : "get");
    }

    @Test
    void closeWaitsForAFlattenInProgressAndTheFlattenStopsCleanly() throws Exception {
        for (int round = 0; round < 4; round++) {
            TrainKV db = TrainKV.open(CompactionTest.smallTree(tempDir.resolve("db" + round)).level0Triggers(100, 200, 300));
            for (int i = 0; i < 20_000; i++) {
                db.set(String.format("k%06d", i), "v".repeat(40));
            }
            db.flush();
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            Thread flatten = new Thread(() -> {
                try {
                    db.flatten();
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
            flatten.start();
            while (compactions(db) < 1 + round) {
                Thread.onSpinWait();
            }
            db.close();
            flatten.join();
            Throwable t = outcome.get();
            assertNull(t == null || t instanceof IllegalStateException ? null : t, "flatten ends or sees the close");
            try (TrainKV reopened = TrainKV.open(CompactionTest.smallTree(tempDir.resolve("db" + round)))) {
                assertEquals("v".repeat(40), reopened.get("k012345"));
            }
        }
    }

    private static long compactions(TrainKV db) {
        try {
            Stats stats = db.stats();
            return stats.compactions() + stats.trivialMoves();
        } catch (IllegalStateException e) {
            return Long.MAX_VALUE;
        }
    }

    @Test
    void aVersionSetRefusesReadersAfterCloseInsteadOfSpinning() throws Exception {
        VersionSet versions = VersionSet.open(NioStorage.open(tempDir.resolve("vs")), 8, true, 1 << 20, 1, 1 << 20,
                null, null, null, false);
        versions.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, versions::acquireCurrent);
        assertEquals("database is closed", e.getMessage());
    }

    @Test
    void aTornFinalRecordWhoseValueHoldsARecordLikeFrameIsStillATornTail() throws Exception {
        Path dir = tempDir.resolve("db");
        byte[] inner = "any payload".getBytes();
        ByteBuffer frame = RecordFraming.frame(inner, inner.length);
        byte[] value = new byte[20_000];
        frame.get(value, 100, frame.remaining());
        long sizeAfterFirst;
        Path wal;
        try (TrainKV db = TrainKV.open(Options.at(dir).valueThreshold(Integer.MAX_VALUE))) {
            db.write(new WriteBatch().set("a", "1"), true);
            wal = newestWal(dir);
            sizeAfterFirst = db.stats().walBytes(); // the file itself is preallocated while open
            db.write(new WriteBatch().set("b".getBytes(), value), true);
        }
        try (FileChannel channel = FileChannel.open(wal, StandardOpenOption.WRITE)) {
            channel.truncate(sizeAfterFirst + 1000);
        }
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            assertEquals("1", db.get("a"));
            assertNull(db.get("b"));
        }
        assertFalse(Files.exists(wal) && Files.size(wal) > sizeAfterFirst, "the torn bytes are gone");
    }

    private static Path newestWal(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> wals = files.filter(p -> FileNames.parseNumber(p.getFileName().toString(), FileNames.Kind.WAL) >= 0)
                    .sorted().toList();
            return wals.get(wals.size() - 1);
        }
    }
}
