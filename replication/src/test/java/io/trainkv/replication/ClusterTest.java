package io.trainkv.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.ConflictException;
import io.trainkv.Entry;
import io.trainkv.Transaction;
import io.trainkv.WriteBatch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A three-node cluster on the loopback interface: writes, leader loss, restart, and identical replicas. */
class ClusterTest {

    @TempDir
    Path dir;

    @Test
    void replicasEndIdenticalAfterTheLeaderIsKilledAndRestarted() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 3, TestCluster.settings(100_000));
                ReplicatedTrainKV kv = ReplicatedTrainKV.connect(cluster.group)) {
            long last = 0;
            for (int i = 0; i < 100; i++) {
                last = kv.write(new WriteBatch().set("k" + i, "v" + i).delete("gone" + i));
            }
            int leader = cluster.leader();
            cluster.kill(leader);
            for (int i = 100; i < 200; i++) {
                last = kv.write(new WriteBatch().set("k" + i, "v" + i).set("k" + (i - 100), "w" + i));
            }
            assertEquals("w150", kv.get("k50"));
            cluster.start(leader);
            for (int i = 200; i < 220; i++) {
                last = kv.write(new WriteBatch().set("k" + i, "v" + i));
            }
            cluster.awaitApplied(last);
            Map<String, String> expected = cluster.contents(0);
            assertEquals(220 + 320, expected.size(), "220 user keys and 320 last-modified records (deleted keys keep theirs)");
            for (int i = 1; i < 3; i++) {
                assertEquals(expected, cluster.contents(i), "replica " + TestCluster.id(i));
            }
            assertEquals("v219", kv.get("k219"));
            assertNull(kv.get("gone3"));
        }
    }

    /**
     * A restarted member replays its whole Raft log (no snapshot was taken); entries at or below
     * its database's applied record must not be written again. Each write makes a new engine
     * version, so the database's newest version shows whether anything was re-applied.
     */
    @Test
    void aRestartedMemberAppliesNoReplayedEntryTwice() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 3, TestCluster.settings(100_000));
                ReplicatedTrainKV kv = ReplicatedTrainKV.connect(cluster.group)) {
            long last = 0;
            for (int i = 0; i < 30; i++) {
                last = kv.write(new WriteBatch().set("k" + (i % 7), "v" + i));
            }
            cluster.awaitApplied(last);
            int follower = (cluster.leader() + 1) % 3;
            long versionBefore = newestVersion(cluster, follower);
            Map<String, String> before = cluster.contents(follower);
            cluster.kill(follower);
            cluster.start(follower);
            cluster.awaitApplied(last);
            assertEquals(last, cluster.server(follower).appliedIndex());
            assertEquals(versionBefore, newestVersion(cluster, follower), "no entry was written again");
            assertEquals(before, cluster.contents(follower));
        }
    }

    private static long newestVersion(TestCluster cluster, int member) {
        return cluster.server(member).stateMachine().withDatabase(db -> {
            try (Transaction snapshot = db.snapshot()) {
                return snapshot.readVersion();
            }
        });
    }

    @Test
    void readsScansAndStaleReadsSeeTheWritesButNeverTheReservedKeys() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 3, TestCluster.settings(100_000));
                ReplicatedTrainKV kv = ReplicatedTrainKV.connect(cluster.group)) {
            for (int i = 0; i < 2500; i += 100) {
                WriteBatch batch = new WriteBatch();
                for (int j = i; j < i + 100; j++) {
                    batch.set(String.format("key%05d", j), "v" + j);
                }
                kv.write(batch);
            }
            long index = kv.write(new WriteBatch().set(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF}, new byte[] {1}));
            List<String> keys = new ArrayList<>();
            for (Iterator<Entry> it = kv.iterator(); it.hasNext(); ) {
                keys.add(new String(it.next().key(), StandardCharsets.ISO_8859_1));
            }
            assertEquals(2501, keys.size(), "every user key, across pages, above the reserved space too");
            assertEquals("key00000", keys.get(0));
            assertEquals("\u00ff\u00ff\u00ff", keys.get(2500));
            List<String> reverse = new ArrayList<>();
            for (Iterator<Entry> it = kv.iterator("key01000".getBytes(), "key01003".getBytes(), true); it.hasNext(); ) {
                reverse.add(it.next().valueAsString());
            }
            assertEquals(List.of("v1002", "v1001", "v1000"), reverse);
            for (int i = 0; i < 3; i++) {
                assertEquals("v7", new String(kv.staleGet("key00007".getBytes(), TestCluster.id(i), index)));
            }
            assertThrows(IllegalArgumentException.class, () -> kv.set(ReservedKeys.APPLIED, new byte[1]));
            assertNull(kv.get("absent"));
        }
    }

    @Test
    void aTransactionThatReadAChangedKeyConflictsAndWriteSkewIsPrevented() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 3, TestCluster.settings(100_000));
                ReplicatedTrainKV kv = ReplicatedTrainKV.connect(cluster.group)) {
            kv.set("x", "1");
            kv.set("y", "1");
            // write skew: each reads both and zeroes one; serially, the second sees the first's write
            ReplicatedTransaction a = kv.newTransaction();
            ReplicatedTransaction b = kv.newTransaction();
            assertEquals("1", a.get("x"));
            assertEquals("1", a.get("y"));
            assertEquals("1", b.get("x"));
            assertEquals("1", b.get("y"));
            a.set("x", "0");
            b.set("y", "0");
            a.commit();
            ConflictException e = assertThrows(ConflictException.class, b::commit);
            assertTrue(e.getMessage().contains("key x"), e.getMessage());
            assertEquals("0", kv.get("x"));
            assertEquals("1", kv.get("y"), "nothing of the conflicting transaction is written");
            // a range read conflicts with an insert into the range
            ReplicatedTransaction c = kv.newTransaction();
            assertEquals(2, c.scan("a".getBytes(), "z".getBytes(), false).size());
            c.set("count", "2");
            kv.set("w", "new");
            assertThrows(ConflictException.class, c::commit);
            // read-your-own-writes, and an untouched read commits
            ReplicatedTransaction d = kv.newTransaction();
            d.set("x", "5");
            assertEquals("5", d.get("x"));
            assertEquals("1", d.get("y"));
            assertTrue(d.commit() > 0);
            assertEquals("5", kv.get("x"));
        }
    }
}
