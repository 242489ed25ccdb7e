package io.trainkv.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.WriteBatch;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots are checkpoints: a follower that was down while the leader snapshotted and purged its
 * log past the follower's position installs the leader's snapshot and catches up from there.
 */
class SnapshotTest {

    @TempDir
    Path dir;

    @Test
    void aFollowerBehindThePurgePointInstallsASnapshotAndCatchesUp() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 3, TestCluster.settings(40));
                ReplicatedTrainKV kv = ReplicatedTrainKV.connect(cluster.group)) {
            for (int i = 0; i < 20; i++) {
                kv.set("early" + i, "v" + i);
            }
            int leader = cluster.leader();
            int follower = (leader + 1) % 3;
            long followerApplied = cluster.server(follower).appliedIndex();
            cluster.kill(follower);
            String value = "x".repeat(300);
            long last = 0;
            for (int i = 0; i < 200; i++) {
                last = kv.write(new WriteBatch().set("late" + i, value + i).delete("early" + (i % 20)));
            }
            int current = cluster.leader();
            long purgedTo = cluster.logStartIndex(current);
            assertTrue(purgedTo > followerApplied + 1, "the leader's log starts at " + purgedTo
                    + ", after the follower's position " + followerApplied + ": only a snapshot can catch it up");
            cluster.start(follower);
            last = kv.write(new WriteBatch().set("after", "restart"));
            cluster.awaitApplied(last);
            assertEquals(cluster.contents(current), cluster.contents(follower));
            assertEquals(200 + 200 + 20 + 2, cluster.contents(follower).size(),
                    "late keys and their records, the deleted early keys' records, 'after' and its record");
            assertTrue(cluster.server(follower).stateMachine().getLatestSnapshot().getIndex() > followerApplied,
                    "the follower holds a snapshot past where it stopped");
        }
    }
}
