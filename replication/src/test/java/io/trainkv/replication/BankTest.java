package io.trainkv.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.ConflictException;
import io.trainkv.WriteBatch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bank transfers as replicated transactions, from several clients while the leader is killed and
 * started again: the total never changes, read in one transaction during the run and on every
 * replica's database at the end.
 */
class BankTest {

    private static final boolean LONG = Boolean.getBoolean("trainkv.replication.long");
    private static final int ACCOUNTS = 5;
    private static final int START_BALANCE = 100;
    private static final int TRANSFERS_PER_CLIENT = LONG ? 500 : 60;

    @TempDir
    Path dir;

    @Test
    void transfersKeepTheTotalAcrossLeaderChanges() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 3, TestCluster.settings(LONG ? 300 : 100_000));
                ReplicatedTrainKV auditor = ReplicatedTrainKV.connect(cluster.group)) {
            ReplicatedTransaction setup = auditor.newTransaction();
            for (int i = 0; i < ACCOUNTS; i++) {
                setup.set("acct" + i, Integer.toString(START_BALANCE));
            }
            setup.commit();
            AtomicInteger committed = new AtomicInteger();
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < 3; c++) {
                long seed = c;
                Thread t = new Thread(() -> {
                    try (ReplicatedTrainKV kv = ReplicatedTrainKV.connect(cluster.group)) {
                        Random random = new Random(seed);
                        for (int i = 0; i < TRANSFERS_PER_CLIENT; i++) {
                            int from = random.nextInt(ACCOUNTS);
                            int to = (from + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
                            int amount = 1 + random.nextInt(20);
                            try {
                                kv.update(txn -> transfer(txn, from, to, amount), 50);
                                committed.incrementAndGet();
                            } catch (ReplicationException e) {
                                // outcome unknown: the invariant must hold either way
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "bank-" + c);
                clients.add(t);
                t.start();
            }
            int audits = 0;
            boolean killed = false;
            boolean restarted = false;
            int victim = -1;
            while (clients.stream().anyMatch(Thread::isAlive)) {
                assertEquals(ACCOUNTS * START_BALANCE, total(auditor), "total seen by a transaction");
                audits++;
                if (!killed && committed.get() > TRANSFERS_PER_CLIENT) {
                    victim = cluster.leader();
                    cluster.kill(victim);
                    killed = true;
                } else if (killed && !restarted && committed.get() > 2 * TRANSFERS_PER_CLIENT) {
                    cluster.start(victim);
                    restarted = true;
                }
                Thread.sleep(50);
            }
            if (!restarted) {
                cluster.start(victim);
            }
            assertEquals(List.of(), failures);
            assertTrue(killed && audits > 0);
            long last = auditor.write(new WriteBatch().set("audit", "done"));
            cluster.awaitApplied(last);
            for (int i = 0; i < cluster.size(); i++) {
                Map<String, String> contents = cluster.contents(i);
                int sum = 0;
                for (int a = 0; a < ACCOUNTS; a++) {
                    sum += Integer.parseInt(contents.get("acct" + a));
                }
                assertEquals(ACCOUNTS * START_BALANCE, sum, "total on replica " + TestCluster.id(i));
                assertEquals(cluster.contents(0), contents);
            }
        }
    }

    private static void transfer(ReplicatedTransaction txn, int from, int to, int amount) {
        int a = Integer.parseInt(txn.get("acct" + from));
        int b = Integer.parseInt(txn.get("acct" + to));
        if (a >= amount) {
            txn.set("acct" + from, Integer.toString(a - amount));
            txn.set("acct" + to, Integer.toString(b + amount));
        }
    }

    /** The sum of every balance read in one transaction that committed (so the reads are of one state). */
    private static int total(ReplicatedTrainKV kv) {
        for (int attempt = 0; ; attempt++) {
            ReplicatedTransaction txn = kv.newTransaction();
            int sum = 0;
            for (int a = 0; a < ACCOUNTS; a++) {
                sum += Integer.parseInt(txn.get("acct" + a));
            }
            try {
                txn.commit();
                return sum;
            } catch (ConflictException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }
}
