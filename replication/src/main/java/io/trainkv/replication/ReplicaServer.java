package io.trainkv.replication;

import io.trainkv.Options;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * One member of a replicated TrainKV cluster: a Ratis server over gRPC whose state machine is a
 * local TrainKV database. Its directory holds {@code data/} (the TrainKV database) and
 * {@code raft/} (the Raft log, its metadata and the snapshots). Reads are linearizable through
 * Ratis's read index; snapshots are taken every {@link Settings#snapshotEvery} log entries and the
 * log is purged up to them.
 */
public final class ReplicaServer implements AutoCloseable {

    /**
     * How a server runs. Defaults suit a real cluster; tests shrink the snapshot interval and log
     * segments so that purges happen after a few hundred entries.
     *
     * @param snapshotEvery log entries between automatic snapshots
     * @param purgeGap log entries kept below a snapshot's index (Ratis purges in whole segments)
     * @param segmentBytes the largest Raft log segment, bytes
     * @param snapshotOnStop take a snapshot when the server stops (tests turn it off, so that a
     *        stop is like a crash and a restart replays the log)
     * @param options the engine options for the database directory
     */
    public record Settings(long snapshotEvery, int purgeGap, long segmentBytes, boolean snapshotOnStop,
            Function<Path, Options> options) {

        /** 100,000 entries between snapshots, purge gap 1,024, 8 MiB segments, a snapshot at stop, default engine options. */
        public static Settings defaults() {
            return new Settings(100_000, 1024, 8L << 20, true, Options::at);
        }
    }

    private final RaftServer server;
    private final TrainKvStateMachine stateMachine;
    private final RaftPeerId id;

    private ReplicaServer(RaftServer server, TrainKvStateMachine stateMachine, RaftPeerId id) {
        this.server = server;
        this.stateMachine = stateMachine;
        this.id = id;
    }

    /**
     * Starts member {@code id} of {@code group} with its data under {@code directory} (created if
     * missing), listening on the port of its own peer address.
     *
     * @throws IllegalArgumentException if {@code id} is not a member of the group
     * @throws IOException if the directories cannot be made or the server cannot start (a port in use)
     */
    public static ReplicaServer start(String id, RaftGroup group, Path directory, Settings settings) throws IOException {
        RaftPeerId peerId = RaftPeerId.valueOf(id);
        RaftPeer self = group.getPeer(peerId);
        if (self == null) {
            throw new IllegalArgumentException("--id " + id + " is not one of the peers " + group.getPeers());
        }
        Path raft = directory.resolve("raft");
        Files.createDirectories(raft);
        RaftProperties properties = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(properties, List.of(raft.toFile()));
        GrpcConfigKeys.Server.setPort(properties, Peers.port(self));
        RaftServerConfigKeys.Read.setOption(properties, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(properties, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(properties, settings.snapshotEvery());
        RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(properties, settings.snapshotOnStop());
        RaftServerConfigKeys.Log.setPurgeGap(properties, settings.purgeGap());
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(properties, true);
        RaftServerConfigKeys.Log.setSegmentSizeMax(properties, SizeInBytes.valueOf(settings.segmentBytes()));
        RaftServerConfigKeys.Log.setPreallocatedSize(properties,
                SizeInBytes.valueOf(Math.min(settings.segmentBytes(), 4L << 20)));
        RaftServerConfigKeys.Rpc.setTimeoutMin(properties, TimeDuration.valueOf(300, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(properties, TimeDuration.valueOf(600, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(properties, TimeDuration.valueOf(200, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(properties, TimeDuration.valueOf(400, TimeUnit.MILLISECONDS));
        TrainKvStateMachine stateMachine = new TrainKvStateMachine(directory.resolve("data"),
                Objects.requireNonNull(settings.options(), "options"));
        boolean formatted;
        try (var children = Files.list(raft)) {
            formatted = children.findAny().isPresent();
        }
        RaftServer server = RaftServer.newBuilder()
                .setServerId(peerId)
                .setGroup(group)
                .setStateMachine(stateMachine)
                .setProperties(properties)
                .setParameters(new Parameters())
                .setOption(formatted ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT)
                .build();
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return new ReplicaServer(server, stateMachine, peerId);
    }

    /** This member's id. */
    public String id() {
        return id.toString();
    }

    /** Whether this member is the leader now (it may stop being one at any moment). */
    public boolean isLeader() throws IOException {
        return division().getInfo().isLeader();
    }

    /** This server's member of its one group. */
    RaftServer.Division division() throws IOException {
        return server.getDivision(server.getGroupIds().iterator().next());
    }

    /** The log index of the last entry written into the local database. */
    public long appliedIndex() {
        return stateMachine.appliedIndex();
    }

    /** The state machine (tests read the local database through it). */
    TrainKvStateMachine stateMachine() {
        return stateMachine;
    }

    /** Stops the server and closes the database. */
    @Override
    public void close() throws IOException {
        server.close();
    }
}
