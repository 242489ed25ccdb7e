package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.NioStorage;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request that cannot be written (a TTL whose expiry does not fit) fails alone with
 * {@link IllegalArgumentException}, at the call where the API can tell and in the group-commit
 * leader otherwise; the writers grouped with it are written and the database keeps taking writes.
 */
class BadRequestTest {

    private static final int FOLLOWERS = 4;
    /** A clock this close to the end of time makes an ordinary TTL overflow the expiry. */
    private static final long NEAR_THE_END_OF_TIME = Long.MAX_VALUE - 60_000;

    @TempDir
    Path tempDir;

    @Test
    void aTtlTooLargeFailsAtTheCallAndTheDatabaseStaysWritable() {
        try (TrainKV db = TrainKV.open(Options.at(tempDir.resolve("db")))) {
            Entry entry = Entry.of("k", "v");
            IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class,
                    () -> db.set(entry.withTtl(Duration.ofMillis(Long.MAX_VALUE))));
            assertTrue(tooLarge.getMessage().contains("ttl too large") && tooLarge.getMessage().contains(" ms"),
                    tooLarge.getMessage());
            assertThrows(IllegalArgumentException.class, () -> entry.withTtl(Duration.ofSeconds(Long.MAX_VALUE)));
            assertThrows(IllegalArgumentException.class, () -> entry.withExpiresAt(Instant.MAX));
            assertThrows(IllegalArgumentException.class, () -> entry.withTtl(null));
            db.set("after", "1");
            db.set(entry.withTtl(Duration.ofDays(365 * 100)));
            assertEquals("1", db.get("after"));
            assertEquals("v", db.get("k"));
        }
    }

    @Test
    void aTransactionSetWhoseExpiryOverflowsThrowsIllegalArgument() {
        TestClock clock = new TestClock(NEAR_THE_END_OF_TIME);
        try (TrainKV db = TrainKV.open(Options.at(tempDir.resolve("db")).clock(clock))) {
            try (Transaction txn = db.newTransaction(true)) {
                IllegalArgumentException overflow = assertThrows(IllegalArgumentException.class,
                        () -> txn.set(Entry.of("k", "v").withTtl(Duration.ofHours(1))));
                assertTrue(overflow.getMessage().contains("ttl too large"), overflow.getMessage());
                assertThrows(IllegalArgumentException.class,
                        () -> txn.set(Entry.of("k", "v").withTtl(Duration.ofMillis(Long.MAX_VALUE))));
                txn.set("other", "1");
                txn.commit();
            }
            assertEquals("1", db.get("other"));
            assertNull(db.get("k"));
        }
    }

    @Test
    void writersGroupedWithARequestWhoseExpiryOverflowsAreWritten() throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        TestClock clock = new TestClock(System.currentTimeMillis());
        CountDownLatch walSyncEntered = new CountDownLatch(1);
        CountDownLatch releaseWalSync = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2 + FOLLOWERS);
        try (TrainKV db = TrainKV.open(Options.at(dir).storage(storage).clock(clock))) {
            db.set("before", "1");
            long groupsBefore = db.stats().writeGroups();
            storage.hook = GroupCommitTest.holdFirstWalSync(walSyncEntered, releaseWalSync);
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> { // a guard against hangs, not a measure
                Future<?> blocker = pool.submit(() -> db.write(new WriteBatch().set("blocker", "1"), true));
                GroupCommitTest.await(walSyncEntered);
                clock.millis.set(NEAR_THE_END_OF_TIME); // the next group's expiries are computed from here
                Future<?> bad = pool.submit(() -> db.set(Entry.of("bad", "x").withTtl(Duration.ofHours(1))));
                GroupCommitTest.awaitQueuedWriters(db, 2);
                List<Future<?>> followers = new ArrayList<>();
                for (int f = 0; f < FOLLOWERS; f++) {
                    String key = "follower-" + f;
                    followers.add(pool.submit(() -> db.set(key, "1")));
                }
                GroupCommitTest.awaitQueuedWriters(db, 2 + FOLLOWERS);
                releaseWalSync.countDown();
                blocker.get();
                ExecutionException refused = assertThrows(ExecutionException.class, bad::get);
                assertTrue(refused.getCause() instanceof IllegalArgumentException
                        && refused.getCause().getMessage().contains("ttl too large"), refused.toString());
                for (Future<?> follower : followers) {
                    follower.get();
                }
            });
            assertEquals(2, db.stats().writeGroups() - groupsBefore, "the followers were written in one group");
            clock.millis.set(System.currentTimeMillis());
            db.set("after", "1");
            for (int f = 0; f < FOLLOWERS; f++) {
                assertEquals("1", db.get("follower-" + f));
            }
            assertNull(db.get("bad"));
        } finally {
            pool.shutdownNow();
        }
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            for (String key : List.of("before", "blocker", "after", "follower-0", "follower-" + (FOLLOWERS - 1))) {
                assertEquals("1", db.get(key), key);
            }
            assertNull(db.get("bad"));
        }
    }
}
