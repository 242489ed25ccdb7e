package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * {@link Options#maxOpenFiles(int)}: with a limit, table files are opened on demand and closed
 * least recently used first, never under a read or an iterator; counted through the storage seam.
 */
class TableCacheTest {

    private static final int KEYS = 6_000;
    private static final Predicate<String> TABLES = name -> FileNames.parseNumber(name, FileNames.Kind.TABLE) >= 0;

    private static byte[] key(int i) {
        return String.format("key-%06d", i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(int i) {
        return ("value-" + i + "-" + "x".repeat(60)).getBytes(StandardCharsets.UTF_8);
    }

    private static Options manySmallTables(FaultInjectingStorage storage) {
        return Options.at(Path.of("unused")).storage(storage).memtableSize(64 * 1024).baseLevelSize(64 * 1024)
                .levelSizeMultiplier(4).targetFileSize(4096).blockSize(1024).valueThreshold(Integer.MAX_VALUE);
    }

    /** Writes {@link #KEYS} keys into many small tables spread over the levels; returns the storage. */
    private static FaultInjectingStorage databaseOfManyTables() throws Exception {
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(FileSystemKind.JIMFS.newDirectory(null)));
        try (TrainKV db = TrainKV.open(manySmallTables(storage))) {
            for (int i = 0; i < KEYS; i++) {
                db.set(key((int) ((i * 7919L) % KEYS)), value((int) ((i * 7919L) % KEYS)));
            }
            db.waitForCompactions();
        }
        return storage;
    }

    private static long tableCount(FaultInjectingStorage storage) throws Exception {
        return storage.list().stream().filter(TABLES).count();
    }

    @Test
    void readsAndScansKeepAtMostTheLimitOfTableFilesOpen() throws Exception {
        FaultInjectingStorage storage = databaseOfManyTables();
        long tables = tableCount(storage);
        assertTrue(tables > 100, "the database needs many more tables than the limit: " + tables);
        AtomicInteger mostOpen = new AtomicInteger();
        storage.hook = (op, name) -> {
            if (op == FaultInjectingStorage.Op.OPEN_READ && TABLES.test(name)) {
                mostOpen.accumulateAndGet(storage.openReadFiles(TABLES) + 1, Math::max);
            }
        };
        int limit = 16;
        try (TrainKV db = TrainKV.open(manySmallTables(storage).maxOpenFiles(limit))) {
            assertTrue(storage.openReadFiles(TABLES) <= limit, "after open: " + storage.openReadFiles(TABLES));
            for (int i = 0; i < KEYS; i++) {
                assertArrayEquals(value(i), db.get(key(i)));
            }
            assertNull(db.get("absent".getBytes(StandardCharsets.UTF_8)));
            for (IteratorOptions direction : List.of(IteratorOptions.forward(), IteratorOptions.reverse())) {
                try (DbIterator it = db.iterator(direction)) {
                    int seen = 0;
                    for (it.seekToFirst(); it.valid(); it.next()) {
                        int expected = direction.isReverse() ? KEYS - 1 - seen : seen;
                        assertArrayEquals(key(expected), it.key());
                        assertArrayEquals(value(expected), it.value());
                        seen++;
                    }
                    assertEquals(KEYS, seen);
                }
            }
            assertTrue(storage.openReadFiles(TABLES) <= limit, "idle: " + storage.openReadFiles(TABLES));
        }
        assertEquals(0, storage.openReadFiles(TABLES), "close closes every table file");
        // one read pins one file, and a scan one per level (every table is below level 0 after
        // waitForCompactions): a file is opened with the limit's worth of idle files still open
        assertTrue(mostOpen.get() <= limit + 1, "table files open at once: " + mostOpen.get());
        assertTrue(storage.count(FaultInjectingStorage.Op.OPEN_READ) > 2 * tables,
                "files were closed and reopened on demand");
        assertEquals(0, storage.readsAfterClose());
    }

    @Test
    void readersRacingEvictionNeverReadAClosedFile() throws Exception {
        FaultInjectingStorage storage = databaseOfManyTables();
        try (TrainKV db = TrainKV.open(manySmallTables(storage).maxOpenFiles(2))) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                SplittableRandom random = new SplittableRandom(t);
                boolean scanner = t % 2 == 0;
                threads.add(new Thread(() -> {
                    try {
                        for (int n = 0; n < 500; n++) {
                            int i = random.nextInt(KEYS);
                            if (scanner) {
                                try (DbIterator it = db.iterator()) {
                                    it.seek(key(i));
                                    for (int j = i; j < Math.min(KEYS, i + 40); j++, it.next()) {
                                        assertArrayEquals(key(j), it.key());
                                        assertArrayEquals(value(j), it.value());
                                    }
                                }
                            } else {
                                assertArrayEquals(value(i), db.get(key(i)));
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            threads.forEach(Thread::start);
            for (Thread thread : threads) {
                thread.join();
            }
            assertNull(failure.get(), () -> "a reader failed: " + failure.get());
        }
        assertEquals(0, storage.readsAfterClose(), "no read went to a table file after it was closed");
        assertEquals(0, storage.openReadFiles(TABLES));
    }

    @Test
    void theLimitMustBeUnlimitedOrPositive() {
        assertThrows(IllegalArgumentException.class, () -> Options.inTempDirectory().maxOpenFiles(0));
        assertEquals(Options.UNLIMITED_OPEN_FILES, Options.inTempDirectory().maxOpenFiles());
    }
}
