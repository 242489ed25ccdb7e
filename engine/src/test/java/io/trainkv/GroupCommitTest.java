package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Concurrent writers share WAL appends and fsyncs and lose nothing. */
class GroupCommitTest {

    private static final int THREADS = 8;
    /** Writes a thread makes to one database before it turns to the other. */
    private static final int RUN = 25;

    @TempDir
    Path tempDir;

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void eightConcurrentWritersLoseNothing(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        int perThread = 3_000;
        Options options = Options.at(dir).memtableSize(256 * 1024);
        try (TrainKV db = TrainKV.open(options)) {
            onThreads(THREADS, thread -> {
                for (int i = 0; i < perThread; i++) {
                    WriteBatch batch = new WriteBatch()
                            .set("t" + thread + "-" + i, "v" + i)
                            .set("last-" + thread, Integer.toString(i));
                    db.write(batch, i % 10 == 0);
                }
            });
            Stats stats = db.stats();
            assertEquals((long) THREADS * perThread, stats.batchesWritten());
            assertTrue(stats.flushedBytes() > 0, "memtables rotated and were flushed: " + stats);
        }
        try (TrainKV db = TrainKV.open(options)) {
            for (int t = 0; t < THREADS; t++) {
                for (int i = 0; i < perThread; i++) {
                    assertEquals("v" + i, db.get("t" + t + "-" + i));
                }
                assertEquals(Integer.toString(perThread - 1), db.get("last-" + t));
            }
            assertEquals((long) THREADS * perThread, db.stats().lastVersion());
        }
    }

    /**
     * Threads that write to two databases in turn, a run of writes to each, lose nothing in
     * either: a thread's reused request, and the group it reuses for a write that is alone in its
     * group, serve both databases, whose versions (one is 1,000 ahead) and last groups are their
     * own.
     */
    @Test
    void writersTakingTurnsBetweenTwoDatabasesLoseNothingInEither() throws Exception {
        int threads = 4;
        int perThread = 4_000;
        List<TrainKV> dbs = List.of(TrainKV.open(Options.at(tempDir.resolve("a")).memtableSize(256 * 1024)),
                TrainKV.open(Options.at(tempDir.resolve("b")).memtableSize(256 * 1024)));
        try {
            for (int i = 0; i < 1_000; i++) {
                dbs.get(1).set("ahead-" + i, "of the other database's versions");
            }
            onThreads(threads, thread -> {
                for (int i = 0; i < perThread; i++) {
                    TrainKV db = dbs.get((i / RUN + thread) % 2);
                    if (i % 7 == 0) {
                        db.write(new WriteBatch().set("t" + thread + "-" + i, "v" + i)
                                .set("pair-" + thread + "-" + i, "p" + i));
                    } else {
                        db.set(("t" + thread + "-" + i).getBytes(), ("v" + i).getBytes());
                    }
                }
            });
            for (int d = 0; d < 2; d++) {
                TrainKV db = dbs.get(d);
                for (int t = 0; t < threads; t++) {
                    for (int i = 0; i < perThread; i++) {
                        boolean here = (i / RUN + t) % 2 == d;
                        assertEquals(here ? "v" + i : null, db.get("t" + t + "-" + i), "db " + d + ", t" + t + "-" + i);
                        assertEquals(here && i % 7 == 0 ? "p" + i : null, db.get("pair-" + t + "-" + i));
                    }
                }
                assertEquals((long) threads * perThread / 2 + 1_000 * d, db.stats().batchesWritten(), "db " + d);
            }
        } finally {
            for (TrainKV db : dbs) {
                db.close();
            }
        }
    }

    /**
     * Writers insert their own batches into the memtable in parallel and groups are published in
     * version order: a write acknowledged to any thread is visible to every reader from then on,
     * including across memtable rotations (a small memtable rotates while groups are inserting).
     */
    @Test
    void everyAcknowledgedWriteIsVisibleToOtherThreads() throws Exception {
        int writers = 4;
        int perThread = 4_000;
        int total = writers * perThread;
        AtomicLongArray acknowledged = new AtomicLongArray(total);
        AtomicInteger tickets = new AtomicInteger();
        AtomicBoolean writing = new AtomicBoolean(true);
        try (TrainKV db = TrainKV.open(Options.at(tempDir).memtableSize(128 * 1024))) {
            ExecutorService pool = Executors.newFixedThreadPool(writers + 1);
            try {
                List<Future<Integer>> futures = new ArrayList<>();
                for (int t = 0; t < writers; t++) {
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < perThread; i++) {
                            int n = tickets.getAndIncrement();
                            db.set("k" + n, "v" + n);
                            acknowledged.set(n, 1);
                        }
                        return 0;
                    }));
                }
                Future<Integer> reader = pool.submit(() -> {
                    int checked = 0;
                    int n = 0;
                    while (writing.get() || n < total) {
                        if (acknowledged.get(n % total) == 1) {
                            String key = "k" + (n % total);
                            if (!("v" + (n % total)).equals(db.get(key))) {
                                throw new AssertionError(key + " was acknowledged but a later read does not see it");
                            }
                            checked++;
                        }
                        n++;
                    }
                    return checked;
                });
                for (Future<Integer> f : futures) {
                    f.get(5, TimeUnit.MINUTES);
                }
                writing.set(false);
                assertTrue(reader.get(5, TimeUnit.MINUTES) > 0, "the reader checked acknowledged writes");
            } finally {
                pool.shutdownNow();
            }
            for (int n = 0; n < total; n++) {
                assertEquals("v" + n, db.get("k" + n));
            }
            assertTrue(db.stats().flushedBytes() > 0, "memtables rotated while writers inserted");
        }
    }

    /**
     * Requests that lead a group of their own (rotations by flush, checked writes of transactions)
     * and syncs, queued among plain writes from several threads: the queue hands every one of
     * them its turn, and every acknowledged write and read-modify-write is there afterwards.
     */
    @Test
    void flushesSyncsAndTransactionsAmongWritersLoseNothing() throws Exception {
        int threads = 4;
        int perThread = 1_500;
        AtomicInteger increments = new AtomicInteger();
        try (TrainKV db = TrainKV.open(Options.at(tempDir).memtableSize(128 * 1024))) {
            onThreads(threads, thread -> {
                for (int i = 0; i < perThread; i++) {
                    if (i % 300 == 150) {
                        db.flush();
                    } else if (i % 50 == 25) {
                        db.sync();
                    } else if (i % 10 == 0) {
                        db.update(txn -> {
                            String count = txn.get("count");
                            txn.set("count", Integer.toString(count == null ? 1 : Integer.parseInt(count) + 1));
                        }, Integer.MAX_VALUE); // a conflict with another thread's increment is retried
                        increments.incrementAndGet();
                    }
                    db.set("t" + thread + "-" + i, "v" + i);
                }
            });
            for (int t = 0; t < threads; t++) {
                for (int i = 0; i < perThread; i++) {
                    assertEquals("v" + i, db.get("t" + t + "-" + i), "t" + t + "-" + i);
                }
            }
            assertEquals(Integer.toString(increments.get()), db.get("count"), "every increment committed once");
            assertTrue(db.stats().flushedBytes() > 0);
        }
    }

    @Test
    void writersQueuedBehindASyncShareTheNextAppendAndFsync() throws Exception {
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(tempDir.resolve("db")));
        CountDownLatch firstSyncEntered = new CountDownLatch(1);
        CountDownLatch releaseFirstSync = new CountDownLatch(1);
        try (TrainKV db = TrainKV.open(Options.inTempDirectory().storage(storage))) {
            storage.hook = (op, name) -> {
                if (op == FaultInjectingStorage.Op.SYNC && firstSyncEntered.getCount() > 0) {
                    firstSyncEntered.countDown();
                    await(releaseFirstSync);
                }
            };
            long syncsBefore = storage.count(FaultInjectingStorage.Op.SYNC);
            long groupsBefore = db.stats().writeGroups();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<?>> futures = new ArrayList<>();
                futures.add(pool.submit(() -> db.write(new WriteBatch().set("leader", "0"), true)));
                await(firstSyncEntered);
                for (int t = 1; t < THREADS; t++) {
                    int thread = t;
                    futures.add(pool.submit(() -> db.write(new WriteBatch().set("follower-" + thread, "1"), true)));
                }
                awaitQueuedWriters(db, THREADS);
                releaseFirstSync.countDown();
                for (Future<?> f : futures) {
                    f.get(1, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(2, storage.count(FaultInjectingStorage.Op.SYNC) - syncsBefore,
                    "one fsync for the leader, one for the 7 queued");
            assertEquals(2, db.stats().writeGroups() - groupsBefore);
            for (int t = 1; t < THREADS; t++) {
                assertEquals("1", db.get("follower-" + t));
            }
        }
    }

    @Test
    void aFailedFsyncFailsTheWholeGroupAndLaterWrites() throws Exception {
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(tempDir.resolve("db")));
        try (TrainKV db = TrainKV.open(Options.inTempDirectory().storage(storage))) {
            db.set("before", "1");
            storage.hook = (op, name) -> {
                if (op == FaultInjectingStorage.Op.SYNC) {
                    throw new IOException("injected fsync failure on " + name);
                }
            };
            StorageException e = assertThrows(StorageException.class, () -> db.write(new WriteBatch().set("k", "v"), true));
            assertTrue(e.getMessage().contains("injected fsync failure"), e.getMessage());
            storage.hook = (op, name) -> { };
            StorageException later = assertThrows(StorageException.class, () -> db.set("after", "2"));
            assertTrue(later.getMessage().contains("refuses writes until reopened"), later.getMessage());
            assertEquals("1", db.get("before"));
            assertEquals(null, db.get("k"));
        }
    }

    /** What each of {@link #onThreads}'s threads runs, given its number. */
    interface ThreadBody {
        void run(int thread) throws Exception;
    }

    /**
     * Runs {@code body} on {@code threads} threads at once, numbered from 0, and waits for them in
     * order: the first failed thread's exception is thrown (wrapped in an
     * {@link java.util.concurrent.ExecutionException}) without waiting for the later ones; a
     * thread not done in five minutes fails the wait (a hang guard).
     */
    static void onThreads(int threads, ThreadBody body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    body.run(thread);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Waits until {@code writers} writers (the running leader included) are in the write queue. */
    static void awaitQueuedWriters(TrainKV db, int writers) throws InterruptedException {
        while (db.pipeline().queuedWriters() < writers) {
            Thread.sleep(1);
        }
    }

    /**
     * A hook that holds the first WAL fsync, so that writers queue up behind its group: it counts
     * down {@code entered} and waits for {@code release}.
     */
    static FaultInjectingStorage.Hook holdFirstWalSync(CountDownLatch entered, CountDownLatch release) {
        return (op, name) -> {
            if (op == FaultInjectingStorage.Op.SYNC && FileNames.parseNumber(name, FileNames.Kind.WAL) >= 0
                    && entered.getCount() > 0) {
                entered.countDown();
                await(release);
            }
        };
    }

    /** Waits for {@code latch}, failing with an IOException (it runs in hooks) after a minute. */
    static void await(CountDownLatch latch) throws IOException {
        try {
            if (!latch.await(1, TimeUnit.MINUTES)) {
                throw new IOException("test latch never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
