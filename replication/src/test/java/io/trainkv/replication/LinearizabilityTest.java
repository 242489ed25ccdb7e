package io.trainkv.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.ConflictException;
import io.trainkv.replication.RegisterChecker.Kind;
import io.trainkv.replication.RegisterChecker.Op;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several clients read, write and compare-and-set (as transactions) a few keys while the leader
 * is killed and started again; the recorded history must be linearizable, key by key. Longer with
 * {@code -Dtrainkv.replication.long=true}.
 */
class LinearizabilityTest {

    private static final boolean LONG = Boolean.getBoolean("trainkv.replication.long");
    private static final int CLIENTS = 3;
    private static final int OPS_PER_CLIENT = LONG ? 600 : 90;
    private static final String[] KEYS = {"a", "b", "c"};

    @TempDir
    Path dir;

    @Test
    void historyWithALeaderKilledAndRestartedIsLinearizable() throws Exception {
        List<Op> history = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger done = new AtomicInteger();
        AtomicInteger values = new AtomicInteger();
        try (TestCluster cluster = new TestCluster(dir, 3, TestCluster.settings(LONG ? 500 : 100_000))) {
            List<Thread> clients = new ArrayList<>();
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            for (int c = 0; c < CLIENTS; c++) {
                long seed = c;
                Thread t = new Thread(() -> {
                    try (ReplicatedTrainKV kv = ReplicatedTrainKV.connect(cluster.group)) {
                        Random random = new Random(seed);
                        for (int i = 0; i < OPS_PER_CLIENT; i++) {
                            history.add(operation(kv, random, values));
                            done.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "client-" + c);
                clients.add(t);
                t.start();
            }
            awaitOps(done, CLIENTS * OPS_PER_CLIENT / 3);
            int leader = cluster.leader();
            cluster.kill(leader);
            awaitOps(done, 2 * CLIENTS * OPS_PER_CLIENT / 3);
            cluster.start(leader);
            for (Thread t : clients) {
                t.join();
            }
            assertEquals(List.of(), failures);
        }
        assertEquals(CLIENTS * OPS_PER_CLIENT, history.size());
        assertTrue(history.stream().anyMatch(op -> op.kind() == Kind.CAS), "some compare-and-sets succeeded");
        assertEquals(List.of(), RegisterChecker.violations(new ArrayList<>(history)), "keys with a non-linearizable history");
    }

    private static void awaitOps(AtomicInteger done, int count) throws InterruptedException {
        while (done.get() < count) {
            Thread.sleep(20);
        }
    }

    /** One random operation and what came of it. */
    private static Op operation(ReplicatedTrainKV kv, Random random, AtomicInteger values) {
        String key = KEYS[random.nextInt(KEYS.length)];
        int choice = random.nextInt(3);
        long start = System.nanoTime();
        if (choice == 0) {
            String value = kv.get(key);
            return new Op(key, Kind.READ, null, value, start, System.nanoTime(), false);
        }
        String value = "v" + values.incrementAndGet();
        if (choice == 1) {
            try {
                kv.set(key, value);
                return new Op(key, Kind.WRITE, null, value, start, System.nanoTime(), false);
            } catch (ReplicationException e) {
                return new Op(key, Kind.WRITE, null, value, start, Long.MAX_VALUE, true);
            }
        }
        // compare-and-set: read, then replace what was read
        ReplicatedTransaction txn = kv.newTransaction();
        String expected = txn.get(key);
        txn.set(key, value);
        try {
            txn.commit();
            return new Op(key, Kind.CAS, expected, value, start, System.nanoTime(), false);
        } catch (ConflictException e) {
            // not applied: the read it made is still an observation of the register
            return new Op(key, Kind.READ, null, expected, start, System.nanoTime(), false);
        } catch (ReplicationException e) {
            return new Op(key, Kind.CAS, expected, value, start, Long.MAX_VALUE, true);
        }
    }
}
