package io.trainkv.replication;

import io.trainkv.DbIterator;
import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.server.RaftServer;

/**
 * Three (or more) replicas on the loopback interface in this JVM, each in its own directory under
 * a test's temporary directory, on free ports; members can be stopped ("killed") and started again
 * on the same directory and port.
 */
final class TestCluster implements AutoCloseable {

    /** Held strongly: java.util.logging keeps loggers weakly. Ratis and gRPC log INFO lines by the hundred. */
    private static final Logger RATIS = Logger.getLogger("org.apache.ratis");

    static {
        RATIS.setLevel(Level.parse(System.getProperty("ratis.log", "SEVERE")));
    }

    final RaftGroup group;
    final String peers;
    private final Path root;
    private final ReplicaServer.Settings settings;
    private final ReplicaServer[] servers;

    TestCluster(Path root, int size, ReplicaServer.Settings settings) throws IOException {
        this.root = root;
        this.settings = settings;
        StringJoiner joiner = new StringJoiner(",");
        for (int i = 0; i < size; i++) {
            joiner.add(id(i) + "=127.0.0.1:" + freePort());
        }
        peers = joiner.toString();
        group = Peers.group(Peers.DEFAULT_GROUP, Peers.parse(peers));
        servers = new ReplicaServer[size];
        for (int i = 0; i < size; i++) {
            start(i);
        }
    }

    /**
     * Small memtables, snapshots every {@code snapshotEvery} entries, 16 KiB log segments, purge gap
     * 8, no snapshot at stop (a stop is like a crash: a restart replays the log).
     */
    static ReplicaServer.Settings settings(long snapshotEvery) {
        return new ReplicaServer.Settings(snapshotEvery, 8, 16 * 1024, false,
                dir -> Options.at(dir).memtableSize(Options.MIN_MEMTABLE_SIZE * 4));
    }

    static String id(int i) {
        return "n" + (i + 1);
    }

    void start(int i) throws IOException {
        servers[i] = ReplicaServer.start(id(i), group, root.resolve(id(i)), settings);
    }

    void kill(int i) throws IOException {
        servers[i].close();
        servers[i] = null;
    }

    ReplicaServer server(int i) {
        return servers[i];
    }

    int size() {
        return servers.length;
    }

    /** The member that is leader now, waiting (up to 30 s) for one to be elected. */
    int leader() throws IOException, InterruptedException {
        for (int attempt = 0; attempt < 300; attempt++) {
            for (int i = 0; i < servers.length; i++) {
                if (servers[i] != null && servers[i].isLeader()) {
                    return i;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no leader elected in 30 s");
    }

    /** Waits (up to 60 s) until every running member has applied at least {@code index}. */
    void awaitApplied(long index) throws InterruptedException {
        for (int attempt = 0; attempt < 600; attempt++) {
            boolean all = true;
            for (ReplicaServer s : servers) {
                all &= s == null || s.appliedIndex() >= index;
            }
            if (all) {
                return;
            }
            Thread.sleep(100);
        }
        StringJoiner applied = new StringJoiner(", ");
        for (ReplicaServer s : servers) {
            applied.add(s == null ? "down" : s.id() + "=" + s.appliedIndex());
        }
        throw new AssertionError("replicas did not apply index " + index + " in 60 s: " + applied);
    }

    /**
     * Member {@code i}'s whole local database by a full scan, every key (reserved ones too) with
     * its value, as escaped text, except the applied-position record (each replica's own progress).
     */
    Map<String, String> contents(int i) {
        return servers[i].stateMachine().withDatabase(TestCluster::contents);
    }

    static Map<String, String> contents(TrainKV db) {
        Map<String, String> all = new LinkedHashMap<>();
        try (DbIterator it = db.iterator()) {
            for (it.seekToFirst(); it.valid(); it.next()) {
                if (!Arrays.equals(it.key(), ReservedKeys.APPLIED)) {
                    all.put(io.trainkv.util.Bytes.escape(it.key()), io.trainkv.util.Bytes.escape(it.value()));
                }
            }
        }
        return all;
    }

    /** The leader's Raft log start index (entries below it are purged). */
    long logStartIndex(int i) throws IOException {
        RaftServer.Division division = servers[i].division();
        return division.getRaftLog().getStartIndex();
    }

    @Override
    public void close() throws IOException {
        List<IOException> failures = new ArrayList<>();
        for (int i = 0; i < servers.length; i++) {
            if (servers[i] != null) {
                try {
                    kill(i);
                } catch (IOException e) {
                    failures.add(e);
                }
            }
        }
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
