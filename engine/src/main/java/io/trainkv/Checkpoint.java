package io.trainkv;

import io.trainkv.manifest.ManifestLog;
import io.trainkv.manifest.VersionEdit;
import io.trainkv.manifest.VersionSet;
import io.trainkv.storage.FileCopy;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import io.trainkv.vlog.ValueLog;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Makes a checkpoint of an open database: a new directory that opens as a TrainKV database
 * holding exactly the writes at or below one version, taken while writers, flushes, compactions
 * and value-log GC go on (see {@link TrainKV#checkpoint(Path)} for the contract).
 *
 * <p>How: every obsolete-file deletion in the source is held first, so nothing it names can
 * vanish. Then, between two write groups ({@link WritePipeline#atWriteBoundary}), it reads the
 * write frontier (version, active WAL and value-log lengths), the live value-log files and the
 * current version of the tables with its manifest snapshot. After that the source runs freely:
 * tables and sealed value-log files never change, so they are hard-linked (copied where linking
 * is impossible); the WALs not yet flushed in that version and the active value-log file are
 * copied up to the captured lengths, so no later write leaks in. Every file is fsynced, the
 * directory fsynced, and only then is a fresh manifest for that version written, {@code CURRENT}
 * last: a checkpoint cut short by a crash has no {@code CURRENT}, and an open refuses a directory
 * of database files without one, so it is never taken for a complete checkpoint. The source's
 * files are read, linked and never written, but for its active value-log file, to which the write
 * path first writes the entries its value-log stage holds ({@link ValueLog#writeStagedEntries()}),
 * as any sync of the file does. A read-only source's stage may hold entries a killed process left
 * past the end of their file: the checkpoint copies that file with them appended.
 */
final class Checkpoint {

    /** What the checkpoint holds, read at one write boundary. */
    private record Captured(WritePipeline.WriteFrontier frontier, List<Long> valueLogFiles, VersionSet.Pinned pinned) {
    }

    private final Storage source;
    private final Storage target;
    private final ValueLog valueLog;
    private final List<String> created = new ArrayList<>();

    private Checkpoint(Storage source, Storage target, ValueLog valueLog) {
        this.source = source;
        this.target = target;
        this.valueLog = valueLog;
    }

    /**
     * Writes the checkpoint into {@code directory} and returns its version.
     *
     * @throws IllegalArgumentException if {@code directory} exists and is not an empty directory
     * @throws IOException on an I/O error; the files written so far are deleted (best effort)
     */
    static long create(Storage source, VersionSet versions, ValueLog valueLog, WritePipeline pipeline, Path directory)
            throws IOException {
        requireEmptyOrAbsent(directory);
        Checkpoint checkpoint = new Checkpoint(source, NioStorage.open(directory), valueLog);
        try (Closeable hold = versions.holdObsoleteFiles()) {
            Captured captured = pipeline.atWriteBoundary(frontier ->
                    new Captured(frontier, valueLog.fileIds(), versions.pinCurrent()));
            try {
                checkpoint.write(captured);
            } finally {
                captured.pinned().version().unref();
            }
            return captured.frontier().version();
        } catch (IOException | RuntimeException | Error e) {
            checkpoint.deleteCreated(e);
            throw e;
        }
    }

    /**
     * Refuses a target that holds anything: a checkpoint never mixes with other files.
     *
     * @throws IllegalArgumentException if {@code directory} is a file or a non-empty directory
     */
    static void requireEmptyOrAbsent(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        if (!Files.isDirectory(directory)) {
            throw new IllegalArgumentException(directory + " exists and is not a directory");
        }
        try (Stream<Path> entries = Files.list(directory)) {
            if (entries.findAny().isPresent()) {
                throw new IllegalArgumentException(directory + " is not empty");
            }
        }
    }

    private void write(Captured captured) throws IOException {
        WritePipeline.WriteFrontier frontier = captured.frontier();
        VersionEdit snapshot = captured.pinned().snapshot();
        for (VersionEdit.Added table : snapshot.added()) {
            linkOrCopy(FileNames.name(table.table().fileNumber(), FileNames.Kind.TABLE));
        }
        Set<Long> collected = new HashSet<>(snapshot.valueLogsCollected());
        for (long id : captured.valueLogFiles()) {
            if (collected.contains(id)) {
                continue; // GC moved its live values at versions the checkpoint holds
            }
            String name = FileNames.name(id, FileNames.Kind.VALUE_LOG);
            long size = source.size(name);
            ByteBuffer staged = valueLog.stagedPastEnd(id, size);
            if (staged != null) {
                copyWithStaged(name, size, staged);
            } else if (id != frontier.valueLogFileId()) {
                linkOrCopy(name);
            } else if (frontier.valueLogBytes() > 0) {
                copy(name, frontier.valueLogBytes());
            }
        }
        for (long wal : FileNames.numbers(source.list(), FileNames.Kind.WAL, snapshot.logNumber())) {
            String name = FileNames.name(wal, FileNames.Kind.WAL);
            if (frontier.walNumber() < 0 || wal < frontier.walNumber()) {
                copy(name, source.size(name)); // a frozen memtable's WAL, complete and closed
            } else if (wal == frontier.walNumber()) {
                copy(name, frontier.walBytes());
            }
        }
        created.add(FileNames.LOCK);
        createLockFile(target);
        target.syncDirectory();
        long manifestNumber = snapshot.nextFileNumber();
        snapshot.nextFileNumber(manifestNumber + 1).lastVersion(Math.max(snapshot.lastVersion(), frontier.version()));
        created.add(FileNames.manifest(manifestNumber));
        ManifestLog.create(target, manifestNumber, snapshot, null).close();
    }

    /**
     * Creates the empty, fsynced {@code LOCK} file a database opened read-write always has, so
     * that the new directory can also be opened read-only (which creates nothing) by the tools.
     */
    static void createLockFile(Storage target) throws IOException {
        try (WritableFile lock = target.create(FileNames.LOCK)) {
            lock.sync();
        }
    }

    /** Hard-links an immutable file into the target, or copies it whole; fsynced either way. */
    private void linkOrCopy(String name) throws IOException {
        created.add(name);
        if (source.linkInto(name, target)) {
            FileCopy.sync(target, name);
        } else {
            FileCopy.copy(source, name, source.size(name), target, name, null);
        }
    }

    /**
     * Copies value-log file {@code name} ({@code size} bytes) and appends {@code staged}, the
     * entries a killed process left in the source's value-log stage past its end, which a
     * read-only source serves from the stage and its next open that writes appends to the file
     * (so the file is copied, not linked: that open changes it).
     */
    private void copyWithStaged(String name, long size, ByteBuffer staged) throws IOException {
        copy(name, size);
        try (WritableFile file = target.openAppend(name)) {
            file.append(staged);
            file.sync();
        }
    }

    private void copy(String name, long length) throws IOException {
        created.add(name);
        FileCopy.copy(source, name, length, target, name, null);
    }

    /** After a failure: removes what this checkpoint created, so the target can be used again. */
    private void deleteCreated(Throwable failure) {
        created.add(0, FileNames.CURRENT); // first: without it the rest is never taken for a database
        created.add(FileNames.CURRENT_TEMP);
        for (String name : created) {
            try {
                target.delete(name);
            } catch (IOException | RuntimeException e) {
                failure.addSuppressed(e);
            }
        }
    }
}
