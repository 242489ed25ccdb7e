package io.trainkv.replication;

import io.trainkv.storage.NioStorage;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Moves a whole local database from a snapshot directory (a {@link io.trainkv.TrainKV#checkpoint})
 * into the live directory, when a follower installs a snapshot or a database is behind the newest
 * one. Every step that a later one depends on is durable first (files and directories fsynced), and
 * the live directory is switched by renames, so a crash leaves either the old database or the new one (see {@link #recoverSwitch}).
 */
final class Checkpoints {

    private Checkpoints() {
    }

    /**
     * Replaces the live database directory {@code live} (closed) with a copy of the snapshot
     * {@code snapshot}: copies into {@code live.restoring}, fsyncs it, renames {@code live} to
     * {@code live.old}, {@code live.restoring} to {@code live}, fsyncs the parent, deletes
     * {@code live.old}.
     *
     * @throws IOException if a step fails; {@link #recoverSwitch} then finds one whole database
     */
    static void restore(Path snapshot, Path live) throws IOException {
        Path staging = sibling(live, ".restoring");
        Path old = sibling(live, ".old");
        deleteRecursively(staging);
        Files.createDirectories(staging);
        try (Stream<Path> files = Files.list(snapshot)) {
            for (Path file : files.filter(Files::isRegularFile).filter(p -> !isTransferDigest(p)).toList()) {
                Files.copy(file, staging.resolve(file.getFileName().toString()));
            }
        }
        syncTree(staging);
        deleteRecursively(old);
        if (Files.exists(live)) {
            Files.move(live, old);
        }
        Files.move(staging, live);
        syncDirectory(live.toAbsolutePath().getParent());
        deleteRecursively(old);
    }

    /**
     * Finishes or undoes a {@link #restore} cut short by a crash: a leftover {@code live.restoring}
     * is incomplete and deleted; a {@code live.old} is the previous database, put back if
     * {@code live} is missing (the restore then runs again from the snapshot) and deleted otherwise.
     */
    static void recoverSwitch(Path live) throws IOException {
        deleteRecursively(sibling(live, ".restoring"));
        Path old = sibling(live, ".old");
        if (Files.exists(old)) {
            if (Files.exists(live)) {
                deleteRecursively(old);
            } else {
                Files.move(old, live);
                syncDirectory(live.toAbsolutePath().getParent());
            }
        }
    }

    /** Whether {@code file} is the {@code .md5} digest Ratis writes beside each file it receives. */
    static boolean isTransferDigest(Path file) {
        return file.getFileName().toString().endsWith(".md5");
    }

    static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> all = Files.walk(path)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Fsyncs every file directly in {@code directory}, then the directory. */
    static void syncTree(Path directory) throws IOException {
        List<Path> files;
        try (Stream<Path> all = Files.list(directory)) {
            files = all.filter(Files::isRegularFile).toList();
        }
        for (Path file : files) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
        }
        syncDirectory(directory);
    }

    static void syncDirectory(Path directory) throws IOException {
        NioStorage.open(directory).syncDirectory();
    }

    private static Path sibling(Path live, String suffix) {
        return live.resolveSibling(live.getFileName() + suffix);
    }
}
