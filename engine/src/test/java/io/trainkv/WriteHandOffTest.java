package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.memtable.MemTable;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.util.Bytes;
import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write pipeline's hand-offs ({@link HandOffWaiter}: writers spin, then park, outside the
 * lock) lose no wake-up: writers parked in the queue when the database closes, writers parked
 * until a slow insert of their group is done, a write the leader refuses among many writers, and
 * publication in version order. The timeouts only guard against the hangs a lost wake-up causes;
 * they measure nothing.
 */
class WriteHandOffTest {

    private static final Duration HANG_GUARD = Duration.ofSeconds(30);
    private static final int FOLLOWERS = 4;
    /** A clock this close to the end of time makes an hour's TTL overflow the expiry. */
    private static final long NEAR_THE_END_OF_TIME = Long.MAX_VALUE - 60_000;

    @TempDir
    Path tempDir;

    private final List<Thread> poolThreads = new ArrayList<>();

    private ExecutorService pool(int threads) {
        return Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r);
            synchronized (poolThreads) {
                poolThreads.add(t);
            }
            return t;
        });
    }

    @Test
    void closeWakesEveryWriterParkedInTheQueueAndReturns() throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        CountDownLatch walSyncEntered = new CountDownLatch(1);
        CountDownLatch releaseWalSync = new CountDownLatch(1);
        ExecutorService pool = pool(2 + FOLLOWERS);
        Map<String, Boolean> written = new HashMap<>();
        try {
            assertTimeoutPreemptively(HANG_GUARD, () -> {
                TrainKV db = TrainKV.open(Options.at(dir).storage(storage));
                storage.hook = GroupCommitTest.holdFirstWalSync(walSyncEntered, releaseWalSync);
                Future<?> blocker = pool.submit(() -> db.write(new WriteBatch().set("blocker", "1"), true));
                GroupCommitTest.await(walSyncEntered);
                List<Future<?>> followers = new ArrayList<>();
                for (int f = 0; f < FOLLOWERS; f++) {
                    String key = "follower-" + f;
                    followers.add(pool.submit(() -> db.set(key, "1")));
                }
                GroupCommitTest.awaitQueuedWriters(db, 1 + FOLLOWERS);
                Future<?> closer = pool.submit(() -> {
                    db.close();
                    return null;
                });
                awaitAllParked(FOLLOWERS + 1); // the followers and the closer; the blocker waits in the hook, timed
                releaseWalSync.countDown();
                blocker.get();
                closer.get();
                for (int f = 0; f < FOLLOWERS; f++) {
                    try {
                        followers.get(f).get();
                        written.put("follower-" + f, true);
                    } catch (ExecutionException e) {
                        assertInstanceOf(IllegalStateException.class, e.getCause(), "refused: the database closed");
                        written.put("follower-" + f, false);
                    }
                }
            });
        } finally {
            pool.shutdownNow();
        }
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            assertEquals("1", db.get("blocker"));
            written.forEach((key, acknowledged) -> {
                if (acknowledged) {
                    assertEquals("1", db.get(key), key);
                }
            });
        }
    }

    /**
     * Writers join the queue without the pipeline's lock: while a leader holds it (here rotating
     * to a new WAL, held in the WAL's creation), writers that arrive queue up behind it and park
     * on their own hand-off, never on the lock, so a lock holder that is preempted makes no writer
     * wait for it; once it goes on, every write is done.
     */
    @Test
    void writersJoinTheQueueWithoutTheLockTheLeaderHolds() throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        CountDownLatch walCreateEntered = new CountDownLatch(1);
        CountDownLatch releaseWalCreate = new CountDownLatch(1);
        ExecutorService pool = pool(1 + FOLLOWERS);
        try (TrainKV db = TrainKV.open(Options.at(dir).storage(storage))) {
            db.set("before", "1");
            storage.hook = (op, name) -> {
                if (op == FaultInjectingStorage.Op.CREATE && FileNames.parseNumber(name, FileNames.Kind.WAL) >= 0
                        && walCreateEntered.getCount() > 0) {
                    walCreateEntered.countDown();
                    GroupCommitTest.await(releaseWalCreate);
                }
            };
            try {
                assertTimeoutPreemptively(HANG_GUARD, () -> {
                    Future<?> rotation = pool.submit(() -> {
                        db.flush();
                        return null;
                    });
                    GroupCommitTest.await(walCreateEntered);
                    List<Future<?>> followers = new ArrayList<>();
                    for (int f = 0; f < FOLLOWERS; f++) {
                        String key = "follower-" + f;
                        followers.add(pool.submit(() -> db.set(key, "1")));
                    }
                    awaitAllParked(FOLLOWERS); // the leader waits in the hook, timed
                    synchronized (poolThreads) {
                        for (Thread t : poolThreads) {
                            if (t.getState() == Thread.State.WAITING) {
                                Object blocker = LockSupport.getBlocker(t);
                                assertInstanceOf(HandOffWaiter.class, blocker, "a writer parked on " + blocker);
                            }
                        }
                    }
                    assertEquals(1 + FOLLOWERS, db.pipeline().queuedWriters());
                    releaseWalCreate.countDown();
                    rotation.get();
                    for (Future<?> follower : followers) {
                        follower.get();
                    }
                });
            } finally {
                releaseWalCreate.countDown();
                pool.shutdownNow();
            }
            for (int f = 0; f < FOLLOWERS; f++) {
                assertEquals("1", db.get("follower-" + f));
            }
        }
    }

    /**
     * Small writes grouped with a batch of many entries finish their own inserts long before it
     * and park waiting for the group's publication; the writer of the big batch wakes them.
     */
    @Test
    void writersParkedUntilTheirGroupIsPublishedAreWokenAndSeeEveryWriteOfTheGroup() throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        CountDownLatch walSyncEntered = new CountDownLatch(1);
        CountDownLatch releaseWalSync = new CountDownLatch(1);
        int bigEntries = 20_000;
        ExecutorService pool = pool(2 + FOLLOWERS);
        try {
            assertTimeoutPreemptively(HANG_GUARD, () -> {
                TrainKV db = TrainKV.open(Options.at(dir).storage(storage).memtableSize(64L << 20));
                storage.hook = GroupCommitTest.holdFirstWalSync(walSyncEntered, releaseWalSync);
                long groupsBefore = db.stats().writeGroups();
                Future<?> blocker = pool.submit(() -> db.write(new WriteBatch().set("blocker", "1"), true));
                GroupCommitTest.await(walSyncEntered);
                WriteBatch big = new WriteBatch();
                for (int i = 0; i < bigEntries; i++) {
                    big.set("big-" + i, "v" + i);
                }
                List<Future<?>> writes = new ArrayList<>();
                writes.add(pool.submit(() -> db.write(big, false)));
                GroupCommitTest.awaitQueuedWriters(db, 2);
                for (int f = 0; f < FOLLOWERS; f++) {
                    String key = "small-" + f;
                    writes.add(pool.submit(() -> {
                        db.set(key, "1");
                        // returned only once its group is published: the whole big batch is visible
                        assertEquals("v" + (bigEntries - 1), db.get("big-" + (bigEntries - 1)));
                    }));
                }
                GroupCommitTest.awaitQueuedWriters(db, 2 + FOLLOWERS);
                releaseWalSync.countDown();
                blocker.get();
                for (Future<?> w : writes) {
                    w.get();
                }
                assertEquals(2, db.stats().writeGroups() - groupsBefore, "the blocker, then one group of the rest");
                for (int f = 0; f < FOLLOWERS; f++) {
                    assertEquals("1", db.get("small-" + f));
                }
                for (int i = 0; i < bigEntries; i++) {
                    assertEquals("v" + i, db.get("big-" + i));
                }
                db.close();
            });
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void writesTheLeaderRefusesAmongManyWritersFailAloneAndTheRestAreWritten() throws Exception {
        int writers = 4;
        int perThread = 2_000;
        TestClock clock = new TestClock(NEAR_THE_END_OF_TIME);
        AtomicInteger refused = new AtomicInteger();
        ExecutorService pool = pool(writers);
        try {
            assertTimeoutPreemptively(HANG_GUARD, () -> {
                TrainKV db = TrainKV.open(Options.at(tempDir.resolve("db")).clock(clock));
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < writers; t++) {
                    int thread = t;
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < perThread; i++) {
                            String key = "t" + thread + "-" + i;
                            if (i % 7 == 3) { // its expiry overflows at this clock: the leader refuses it
                                try {
                                    db.set(Entry.of(key, "v").withTtl(Duration.ofHours(1)));
                                    throw new AssertionError(key + " was written with an overflowing expiry");
                                } catch (IllegalArgumentException expected) {
                                    refused.incrementAndGet();
                                }
                            } else {
                                db.set(key, "v");
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
                assertTrue(refused.get() > 0);
                for (int t = 0; t < writers; t++) {
                    for (int i = 0; i < perThread; i++) {
                        String key = "t" + t + "-" + i;
                        if (i % 7 == 3) {
                            assertNull(db.get(key), key);
                        } else {
                            assertEquals("v", db.get(key), key);
                        }
                    }
                }
                db.set("after", "1");
                assertEquals("1", db.get("after"));
                db.close();
            });
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Every write is a batch, and a batch is one version: whenever the visible version is
     * {@code v}, each batch up to {@code v} must be wholly in the memtable, so the memtable holds
     * at least {@code v - start} of the test's batches. Each writer writes its batches one after
     * the other, so its batches in the memtable are a prefix of them, and a batch's entries go in
     * in order, so a batch is wholly in once its last entry is: the checker counts whole batches
     * with a few lookups right after it reads {@code v}. Batches of many entries make each insert
     * last much longer than the next leader's WAL append, so groups overlap in their inserts, and a
     * group published before its inserts (or an earlier group's) are done would be seen.
     */
    @Test
    void aVersionIsVisibleOnlyOnceItAndEveryEarlierVersionIsInTheMemtable() throws Exception {
        int writers = 4;
        int perThread = 40;
        int batchEntries = 500;
        AtomicBoolean writing = new AtomicBoolean(true);
        ExecutorService pool = pool(writers + 1);
        try {
            assertTimeoutPreemptively(HANG_GUARD, () -> {
                TrainKV db = TrainKV.open(Options.at(tempDir.resolve("db")).memtableSize(64L << 20));
                WritePipeline pipeline = db.pipeline();
                long start = pipeline.visibleVersion();
                MemTable memtable = pipeline.memtables().get(0);
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < writers; t++) {
                    int thread = t;
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < perThread; i++) {
                            WriteBatch batch = new WriteBatch();
                            for (int e = 0; e < batchEntries; e++) {
                                batch.set(key(thread, i, e), "v");
                            }
                            db.write(batch, false);
                        }
                        return null;
                    }));
                }
                Future<Integer> checker = pool.submit(() -> {
                    int checks = 0;
                    long last = start;
                    int[] inMemtable = new int[writers];
                    while (writing.get()) {
                        long visible = pipeline.visibleVersion();
                        assertTrue(visible >= last, "the visible version went back from " + last + " to " + visible);
                        long entries = 0; // whole batches
                        for (int t = 0; t < writers; t++) {
                            while (inMemtable[t] < perThread
                                    && memtable.get(Bytes.utf8(key(t, inMemtable[t], batchEntries - 1)),
                                            Long.MAX_VALUE) != null) {
                                inMemtable[t]++;
                            }
                            entries += inMemtable[t];
                        }
                        assertTrue(entries >= visible - start, "visible version " + visible + " but only " + entries
                                + " of the " + (visible - start) + " batches up to it are in the memtable");
                        last = visible;
                        checks++;
                    }
                    return checks;
                });
                for (Future<?> f : futures) {
                    f.get();
                }
                writing.set(false);
                assertTrue(checker.get() > 0);
                assertEquals(memtable, pipeline.memtables().get(0), "no rotation: every write is in one memtable");
                assertEquals((long) writers * perThread, pipeline.visibleVersion() - start);
                db.close();
            });
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The pipeline keeps a link to the last group handed to its writers (to chain the next group
     * to it), but not to that group's batches once it is published: a large batch must not stay
     * reachable after its write returned, until some later write.
     */
    @Test
    void aPublishedGroupDoesNotKeepItsBatchesReachable() throws Exception {
        try (TrainKV db = TrainKV.open(Options.at(tempDir))) {
            WeakReference<byte[]> value = writeLargeValue(db);
            for (int i = 0; i < 20 && value.get() != null; i++) {
                System.gc();
            }
            assertTrue(value.get() == null, "the last written batch's value is still reachable after its write returned");
        }
    }

    /** Writes one large value through {@code db}, keeping no strong reference to it. */
    private static WeakReference<byte[]> writeLargeValue(TrainKV db) {
        byte[] large = new byte[4 << 20];
        db.write(new WriteBatch().set(Bytes.utf8("large"), large), false);
        return new WeakReference<>(large);
    }

    private static String key(int writer, int batch, int entry) {
        return "t" + writer + "-" + batch + "-" + entry;
    }

    /** Waits until {@code count} of the pool's threads are parked with no timeout (state WAITING). */
    private void awaitAllParked(int count) throws InterruptedException {
        while (true) {
            int parked = 0;
            synchronized (poolThreads) {
                for (Thread t : poolThreads) {
                    if (t.getState() == Thread.State.WAITING) {
                        parked++;
                    }
                }
            }
            if (parked >= count) {
                return;
            }
            Thread.sleep(1);
        }
    }
}
