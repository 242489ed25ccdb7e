package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.crash.SimulatedDisk;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Transactions: serializable commits, snapshot reads, merged iterators, limits, and the bank invariant. */
class TransactionTest {

    private static final int ACCOUNTS = 100;
    private static final int START_BALANCE = 1_000;

    @TempDir
    Path tempDir;

    private static String account(int i) {
        return String.format("account-%03d", i);
    }

    private static void openAccounts(TrainKV db) {
        db.update(txn -> {
            for (int i = 0; i < ACCOUNTS; i++) {
                txn.set(account(i), Integer.toString(START_BALANCE));
            }
        });
    }

    private static int total(Transaction txn) {
        int total = 0;
        try (DbIterator it = txn.iterator(IteratorOptions.forward().prefix("account-"))) {
            for (it.seekToFirst(); it.valid(); it.next()) {
                total += Integer.parseInt(it.valueAsString());
            }
        }
        return total;
    }

    private static void transfer(TrainKV db, Random random) {
        int from = random.nextInt(ACCOUNTS);
        int to = random.nextInt(ACCOUNTS);
        int amount = random.nextInt(50);
        db.update(txn -> {
            int a = Integer.parseInt(txn.get(account(from)));
            int b = Integer.parseInt(txn.get(account(to)));
            if (from != to) {
                txn.set(account(from), Integer.toString(a - amount));
                txn.set(account(to), Integer.toString(b + amount));
            }
        }, 1_000);
    }

    @Test
    void sixteenThreadsMovingMoneyNeverChangeTheTotal() throws Exception {
        Options options = CompactionTest.smallTree(tempDir.resolve("db")).gcInterval(Duration.ZERO);
        try (TrainKV db = TrainKV.open(options)) {
            openAccounts(db);
            ExecutorService pool = Executors.newFixedThreadPool(17);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger audits = new AtomicInteger();
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                Random random = new Random(t);
                workers.add(pool.submit(() -> {
                    for (int i = 0; i < 300; i++) {
                        transfer(db, random);
                    }
                    return null;
                }));
            }
            Future<?> auditor = pool.submit(() -> {
                while (!stop.get()) {
                    assertEquals(ACCOUNTS * START_BALANCE, (int) db.view(TransactionTest::total), "audit");
                    audits.incrementAndGet();
                }
                return null;
            });
            for (Future<?> w : workers) {
                w.get(5, TimeUnit.MINUTES);
            }
            stop.set(true);
            auditor.get(1, TimeUnit.MINUTES);
            pool.shutdown();
            assertTrue(audits.get() > 0);
            assertEquals(ACCOUNTS * START_BALANCE, (int) db.view(TransactionTest::total));
        }
        try (TrainKV db = TrainKV.open(options)) {
            assertEquals(ACCOUNTS * START_BALANCE, (int) db.view(TransactionTest::total));
        }
    }

    @Test
    void theBankInvariantHoldsAfterEverySimulatedPowerCut() {
        Random random = new Random(11);
        SimulatedDisk disk = new SimulatedDisk();
        for (int cycle = 0; cycle < 20; cycle++) {
            try (TrainKV db = TrainKV.open(io.trainkv.crash.CrashTestAccess.options(disk))) {
                if (cycle == 0) {
                    openAccounts(db);
                }
                assertEquals(ACCOUNTS * START_BALANCE, (int) db.view(TransactionTest::total), "after crash " + cycle);
                int transfers = random.nextInt(200);
                for (int i = 0; i < transfers; i++) {
                    transfer(db, random);
                    if (random.nextInt(50) == 0) {
                        db.flush();
                    }
                }
                disk = disk.crash(random);
            }
        }
    }

    @ParameterizedTest(name = "detectConflicts {0}")
    @ValueSource(booleans = {true, false})
    void writeSkewIsImpossibleWithConflictDetection(boolean detect) {
        try (TrainKV db = TrainKV.open(Options.inTempDirectory().detectConflicts(detect))) {
            db.set("x", "1");
            db.set("y", "1");
            Transaction t1 = db.newTransaction(true);
            Transaction t2 = db.newTransaction(true);
            int sum1 = Integer.parseInt(t1.get("x")) + Integer.parseInt(t1.get("y"));
            int sum2 = Integer.parseInt(t2.get("x")) + Integer.parseInt(t2.get("y"));
            t1.set("x", Integer.toString(sum1 - 2));
            t2.set("y", Integer.toString(sum2 - 2));
            int commits = 0;
            for (Transaction t : List.of(t1, t2)) {
                try {
                    t.commit();
                    commits++;
                } catch (ConflictException e) {
                    assertTrue(e.getMessage().contains("conflicts"), e.getMessage());
                }
            }
            assertEquals(detect ? 1 : 2, commits);
        }
    }

    @Test
    void aRangeReadByAnIteratorConflictsWithAnInsertIntoIt() {
        try (TrainKV db = TrainKV.open(Options.inTempDirectory())) {
            db.set("user:1", "a");
            Transaction txn = db.newTransaction(true);
            int count = 0;
            try (DbIterator it = txn.iterator(IteratorOptions.forward().prefix("user:"))) {
                for (it.seekToFirst(); it.valid(); it.next()) {
                    count++;
                }
            }
            txn.set("count", Integer.toString(count));
            db.set("user:2", "b");
            assertThrows(ConflictException.class, txn::commit);
            assertNull(db.get("count"), "nothing of a conflicting transaction is written");
        }
    }

    @Test
    void aTransactionSeesItsSnapshotAndItsOwnWritesAndItsIteratorMergesThemBothWays() {
        try (TrainKV db = TrainKV.open(Options.inTempDirectory().valueThreshold(4))) {
            db.set("a", "1");
            db.set("b", "22222");
            db.set("c", "3");
            try (Transaction txn = db.newTransaction(true)) {
                db.set("a", "changed-later");
                db.set("d", "added-later");
                db.delete("c");
                assertEquals("1", txn.get("a"), "no write committed after it began");
                assertNull(txn.get("d"));
                assertEquals("3", txn.get("c"));
                txn.set("b", "own");
                txn.delete("a");
                txn.set("e", "55555");
                assertEquals("own", txn.get("b"));
                assertNull(txn.get("a"));
                assertEquals(List.of("b=own", "c=3", "e=55555"), walk(txn.iterator(IteratorOptions.forward())));
                assertEquals(List.of("e=55555", "c=3", "b=own"), walk(txn.iterator(IteratorOptions.reverse())));
                assertEquals(List.of("c=3"), walk(txn.iterator(IteratorOptions.forward().from("c").to("d"))));
                assertThrows(ConflictException.class, txn::commit, "it read a, which changed");
            }
            try (Transaction txn = db.newTransaction(true)) {
                txn.set("f", "6");
                long version = txn.commit();
                assertEquals(db.stats().lastVersion(), version);
                assertThrows(IllegalStateException.class, () -> txn.get("f"));
                txn.discard();
            }
            assertEquals("6", db.get("f"));
        }
    }

    private static List<String> walk(DbIterator it) {
        List<String> out = new ArrayList<>();
        try (it) {
            for (it.seekToFirst(); it.valid(); it.next()) {
                out.add(it.keyAsString() + "=" + it.valueAsString());
            }
        }
        return out;
    }

    @Test
    void readOnlyTransactionsRefuseWritesAndBigTransactionsAreRefusedBeforeWriting() {
        try (TrainKV db = TrainKV.open(Options.inTempDirectory().memtableSize(Options.MIN_MEMTABLE_SIZE))) {
            try (Transaction snapshot = db.snapshot()) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> snapshot.set("a", "b"));
                assertTrue(e.getMessage().contains("read-only"), e.getMessage());
            }
            try (Transaction txn = db.newTransaction(true)) {
                TxnTooBigException e = assertThrows(TxnTooBigException.class, () -> {
                    for (int i = 0; i < 10_000; i++) {
                        txn.set("key-" + i, "v".repeat(100));
                    }
                });
                assertTrue(e.getMessage().contains("half the memtable size"), e.getMessage());
            }
            assertNull(db.get("key-0"), "nothing was written");
        }
    }

    @Test
    void versionsAnOpenTransactionCanSeeSurviveCompactionAndGcUntilItCloses() {
        Options options = ValueLogTest.separated(tempDir.resolve("db"), 100);
        try (TrainKV db = TrainKV.open(options)) {
            for (int i = 0; i < 2_000; i++) {
                db.set(("k" + i).getBytes(), ("old-" + i + "-" + "x".repeat(300)).getBytes());
            }
            Transaction snapshot = db.snapshot();
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 2_000; i++) {
                    db.set(("k" + i).getBytes(), ("new-" + round + "-" + "y".repeat(300)).getBytes());
                }
            }
            db.flatten();
            db.runValueLogGC(0.3);
            long pinnedBytes = db.stats().levels().get(db.stats().levels().size() - 1).bytes();
            for (int i = 0; i < 2_000; i += 37) {
                assertArrayEquals(("old-" + i + "-" + "x".repeat(300)).getBytes(), snapshot.get(("k" + i).getBytes()));
            }
            snapshot.close();
            db.flatten();
            long afterBytes = db.stats().levels().get(db.stats().levels().size() - 1).bytes();
            assertTrue(afterBytes < pinnedBytes, "the old versions go once nothing can see them: " + afterBytes
                    + " < " + pinnedBytes);
            assertEquals("new-2-" + "y".repeat(300), db.get("k5"));
        }
    }

    /** Separated values in many small files, every key rewritten by GC once the first copies are garbage. */
    private static TrainKV gcDatabase(Path dir) {
        TrainKV db = TrainKV.open(ValueLogTest.separated(dir, 100).valueLogFileSize(64 * 1024).gcInterval(Duration.ZERO));
        for (int i = 0; i < 200; i++) {
            db.set(("k" + i).getBytes(), ("first-" + i + "-" + "x".repeat(300)).getBytes());
        }
        return db;
    }

    /**
     * Overwrites the keys from k100 on, writes filler until those values are in sealed files, then
     * has GC collect every sealed file: every key's newest version becomes a move.
     */
    private static void churnAndCollect(TrainKV db) {
        for (int i = 100; i < 200; i++) {
            db.set(("k" + i).getBytes(), ("second-" + i + "-" + "y".repeat(300)).getBytes());
        }
        for (int i = 0; i < 300; i++) {
            db.set(("filler" + i).getBytes(), "z".repeat(300).getBytes());
        }
        db.flatten();
        java.util.Set<Long> sealed = new java.util.HashSet<>();
        for (Stats.ValueLogFile file : db.stats().valueLogFiles()) {
            if (!file.active()) {
                sealed.add(file.fileId());
            }
        }
        ValueLogGcReport report = db.collectValueLogFiles(sealed);
        assertTrue(report.collectedFiles() > 0 && report.rewrittenBytes() > 0, report.format());
    }

    @Test
    void aValueLogGcMoveOfAKeyATransactionReadIsNotAConflict() {
        try (TrainKV db = gcDatabase(tempDir.resolve("db"))) {
            Transaction txn = db.newTransaction(true);
            assertArrayEquals(("first-7-" + "x".repeat(300)).getBytes(), txn.get("k7".getBytes()));
            int covered = 0;
            try (DbIterator it = txn.iterator(IteratorOptions.forward().from("k2").to("k3"))) {
                for (it.seekToFirst(); it.valid(); it.next()) {
                    covered++;
                }
            }
            assertTrue(covered > 10, "the range read covers keys GC moves: " + covered);
            long before = db.newestEntry("k7".getBytes()).version();
            churnAndCollect(db);
            assertTrue(db.newestEntry("k7".getBytes()).isMoved() && db.newestEntry("k7".getBytes()).version() > before,
                    "GC rewrote k7 at a newer version");
            txn.set("result", "committed");
            txn.commit();
            assertEquals("committed", db.get("result"));
            assertEquals("first-7-" + "x".repeat(300), db.get("k7"));
        }
    }

    @Test
    void aChangeThatGcThenMovedIsStillAConflict() {
        try (TrainKV db = gcDatabase(tempDir.resolve("db"))) {
            Transaction point = db.newTransaction(true);
            point.get("k150".getBytes());
            point.set("result", "point");
            Transaction range = db.newTransaction(true);
            try (DbIterator it = range.iterator(IteratorOptions.forward().prefix("k15"))) {
                for (it.seekToFirst(); it.valid(); it.next()) {
                    continue;
                }
            }
            range.set("result", "range");
            churnAndCollect(db);
            assertTrue(db.newestEntry("k150".getBytes()).isMoved(), "the changed key's newest version is a GC move");
            assertThrows(ConflictException.class, point::commit);
            assertThrows(ConflictException.class, range::commit);
            assertNull(db.get("result"));
        }
    }
}
