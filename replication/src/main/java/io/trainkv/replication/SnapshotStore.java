package io.trainkv.replication;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;

/**
 * Ratis's view of the snapshots: each one is a TrainKV checkpoint directory
 * {@code snapshot.TERM_INDEX} in the Raft storage's state-machine directory, made under a
 * {@code .tmp} name and renamed when complete (so a listed directory is whole). Ratis sends the
 * files it lists to a follower that is behind the log's purge point; on the follower they arrive
 * with the same relative paths (plus an {@code .md5} file each, which {@link #files} skips).
 */
final class SnapshotStore implements StateMachineStorage {

    private static final Pattern NAME = Pattern.compile("snapshot\\.(\\d+)_(\\d+)");
    private static final String TMP = ".tmp";

    private Path directory;
    private volatile SnapshotInfo latest;

    @Override
    public void init(RaftStorage storage) throws IOException {
        directory = storage.getStorageDir().getStateMachineDir().toPath();
        Files.createDirectories(directory);
        reload();
    }

    /** Reads the newest complete snapshot from disk again (after Ratis installed one). */
    void reload() throws IOException {
        Path newest = newest();
        latest = newest == null ? null : new FileListSnapshotInfo(files(newest), termIndex(newest));
    }

    @Override
    public SnapshotInfo getLatestSnapshot() {
        return latest;
    }

    /** The directory of the newest snapshot, or null. */
    Path latestDirectory() {
        SnapshotInfo info = latest;
        return info == null ? null : directory.resolve(name(info.getTermIndex()));
    }

    /** A fresh, empty directory to write the snapshot at {@code at} into; {@link #publish} makes it the latest. */
    Path begin(TermIndex at) throws IOException {
        Path tmp = directory.resolve(name(at) + TMP);
        Checkpoints.deleteRecursively(tmp);
        return tmp;
    }

    /** Renames a snapshot written into {@link #begin}'s directory to its final name, durably. */
    void publish(TermIndex at) throws IOException {
        Path done = directory.resolve(name(at));
        Checkpoints.deleteRecursively(done);
        Files.move(directory.resolve(name(at) + TMP), done);
        Checkpoints.syncDirectory(directory);
        reload();
    }

    @Override
    public void format() {
        // nothing to format: the directory is made by init
    }

    /** Deletes every snapshot but the newest {@code policy.getNumSnapshotsRetained()} (at least one), and stale temporaries. */
    @Override
    public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
        int keep = Math.max(1, policy.getNumSnapshotsRetained());
        List<Path> all = complete();
        for (int i = 0; i < all.size() - keep; i++) {
            Checkpoints.deleteRecursively(all.get(i));
        }
        try (Stream<Path> children = Files.list(directory)) {
            for (Path tmp : children.filter(p -> p.getFileName().toString().endsWith(TMP)).toList()) {
                Checkpoints.deleteRecursively(tmp);
            }
        }
    }

    static String name(TermIndex at) {
        return "snapshot." + at.getTerm() + "_" + at.getIndex();
    }

    private Path newest() throws IOException {
        List<Path> all = complete();
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    /** Complete snapshot directories, oldest first. */
    private List<Path> complete() throws IOException {
        try (Stream<Path> children = Files.list(directory)) {
            return children.filter(p -> Files.isDirectory(p) && NAME.matcher(p.getFileName().toString()).matches())
                    .sorted(Comparator.comparing(SnapshotStore::termIndex))
                    .toList();
        }
    }

    private static TermIndex termIndex(Path snapshot) {
        Matcher m = NAME.matcher(snapshot.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a snapshot directory: " + snapshot);
        }
        return TermIndex.valueOf(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
    }

    /** The snapshot's files for Ratis (digests computed by Ratis while it sends them). */
    private static List<FileInfo> files(Path snapshot) throws IOException {
        List<FileInfo> files = new ArrayList<>();
        try (Stream<Path> all = Files.walk(snapshot)) {
            all.filter(Files::isRegularFile).filter(p -> !Checkpoints.isTransferDigest(p)).sorted()
                    .forEach(p -> files.add(new FileInfo(p, null)));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return files;
    }
}
