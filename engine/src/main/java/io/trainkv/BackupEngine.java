package io.trainkv;

import io.trainkv.backup.BackupManifest;
import io.trainkv.storage.DirectoryLock;
import io.trainkv.storage.DirectoryLockedException;
import io.trainkv.storage.FileCopy;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Numbered, incremental backups of a database in a backup directory, as RocksDB's BackupEngine
 * keeps them: a backup is a checkpoint of the database ({@link TrainKV#checkpoint(Path)}) whose
 * tables and value-log files are stored once in {@code shared/} under their name, size and
 * CRC32C, so a file unchanged since an earlier backup costs nothing the next time; WALs, the
 * manifest and {@code CURRENT} go to {@code private/NNNNNN/}. Each backup is described by a
 * {@link BackupManifest} in {@code meta/NNNNNN}, written last (to a temporary name, fsynced,
 * renamed, directory fsynced): a backup without one never happened, and its files are removed
 * by the next {@link #purge}. The layout is in docs/format.md.
 *
 * <p>One engine owns a backup directory at a time (its {@code LOCK} file). Not thread-safe.
 */
public final class BackupEngine implements AutoCloseable {

    private static final String META = "meta";
    private static final String SHARED = "shared";
    private static final String PRIVATE = "private";
    private static final String TEMPORARY = "tmp";
    private static final String TEMPORARY_SUFFIX = ".tmp";
    /** A manifest larger than this is damage, not read into memory (about 200,000 files). */
    private static final long MAX_MANIFEST_BYTES = 16L << 20;

    /** Told how far a backup, verification or restore is, in bytes read; called on the calling thread. */
    public interface ProgressListener {
        void progress(long doneBytes, long totalBytes);
    }

    /**
     * One backup: its id, the database version it holds (every write at or below it), when it
     * was made, how many files and bytes it holds, and the bytes it added to the backup directory
     * (files no earlier kept backup holds).
     */
    public record BackupInfo(long id, long version, Instant created, int files, long bytes, long addedBytes) {
    }

    /** Damage found by {@link #verify}: the file (relative to the backup directory) and what is wrong. */
    public record Problem(long backupId, String file, String description) {
        @Override
        public String toString() {
            return file + ": " + description;
        }
    }

    private final Path root;
    private final NioStorage rootStorage;
    private final DirectoryLock lock;
    private final NioStorage meta;
    private final NioStorage shared;

    private BackupEngine(Path root, NioStorage rootStorage, DirectoryLock lock) throws IOException {
        this.root = root;
        this.rootStorage = rootStorage;
        this.lock = lock;
        this.meta = NioStorage.open(root.resolve(META));
        this.shared = NioStorage.open(root.resolve(SHARED));
        NioStorage.open(root.resolve(PRIVATE));
        rootStorage.syncDirectory();
    }

    /**
     * Opens a backup directory, creating it if it does not exist or is empty, and takes its lock.
     * Leftovers of a backup that was cut short (its temporary checkpoint) are deleted.
     *
     * @throws IllegalArgumentException if {@code directory} holds files but is not a backup directory
     * @throws DatabaseLockedException if another engine holds the directory
     * @throws StorageException on an I/O error
     */
    public static BackupEngine open(Path directory) {
        Path root = directory.toAbsolutePath().normalize();
        try {
            if (Files.exists(root) && !Files.isDirectory(root.resolve(META))) {
                try {
                    Checkpoint.requireEmptyOrAbsent(root);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(directory + " is neither a backup directory nor empty", e);
                }
            }
            NioStorage rootStorage = NioStorage.open(root);
            DirectoryLock lock;
            try {
                lock = rootStorage.lock(FileNames.LOCK);
            } catch (DirectoryLockedException e) {
                throw new DatabaseLockedException("backup directory " + root + " is in use: " + e.getMessage(), e);
            }
            try {
                BackupEngine engine = new BackupEngine(root, rootStorage, lock);
                deleteRecursively(root.resolve(TEMPORARY));
                return engine;
            } catch (IOException | RuntimeException e) {
                lock.close();
                throw e;
            }
        } catch (IOException e) {
            throw new StorageException("cannot open backup directory " + directory + ": " + e, e);
        }
    }

    /** Whether {@code directory} is a backup directory (it has a {@code meta/} directory); creates nothing. */
    public static boolean isBackupDirectory(Path directory) {
        return Files.isDirectory(directory.resolve(META));
    }

    /**
     * Backs up an open database through a checkpoint: writers and background work go on.
     *
     * @param listener told of progress in bytes, or null
     * @return the new backup
     * @throws StorageException on an I/O error; the backup directory keeps its earlier backups
     */
    public BackupInfo create(TrainKV db, ProgressListener listener) {
        long id = nextId();
        Path checkpoint = root.resolve(TEMPORARY).resolve(BackupManifest.name(id));
        try {
            long version = db.checkpoint(checkpoint);
            return store(id, version, checkpoint, listener);
        } catch (IOException e) {
            throw new StorageException("backup " + id + " into " + root + " failed: " + e, e);
        } finally {
            deleteRecursively(checkpoint);
        }
    }

    /**
     * Backs up a closed database directory: opens it read-only (taking its lock, so no process
     * can write it meanwhile, and changing no file) and backs up a checkpoint of it.
     *
     * @throws DatabaseLockedException if a process has the database open
     * @throws StorageException if {@code database} is not a TrainKV database, or on an I/O error
     * @throws CorruptionException if the database is damaged
     */
    public BackupInfo create(Path database, ProgressListener listener) {
        try (TrainKV db = TrainKV.open(Options.at(database).readOnly(true).gcInterval(Duration.ZERO))) {
            return create(db, listener);
        }
    }

    /** Every complete backup, oldest first. */
    public List<BackupInfo> list() {
        List<BackupInfo> infos = new ArrayList<>();
        Set<String> earlier = new HashSet<>();
        for (BackupManifest m : manifests()) {
            long added = 0;
            for (BackupManifest.File f : m.files()) {
                if (earlier.add(f.storedPath())) {
                    added += f.size();
                }
            }
            infos.add(new BackupInfo(m.id(), m.version(), Instant.ofEpochMilli(m.createdMillis()), m.files().size(),
                    m.bytes(), added));
        }
        return infos;
    }

    /**
     * Checks backup {@code id}: its manifest's checksum, then every file it names for presence,
     * size and CRC32C.
     *
     * @return the damage found, empty if the backup is intact
     * @throws IllegalArgumentException if there is no backup {@code id}
     * @throws StorageException if the manifest cannot be read
     */
    public List<Problem> verify(long id, ProgressListener listener) {
        String metaFile = META + "/" + BackupManifest.name(id);
        BackupManifest m;
        try {
            m = readManifest(id);
        } catch (CorruptionException e) {
            return List.of(new Problem(id, metaFile, e.getMessage()));
        }
        List<Problem> problems = new ArrayList<>();
        long[] done = {0};
        long total = m.bytes();
        for (BackupManifest.File f : m.files()) {
            String problem = check(f, bytes -> report(listener, done[0] += bytes, total));
            if (problem != null) {
                problems.add(new Problem(id, f.storedPath(), problem));
            }
        }
        return problems;
    }

    /**
     * Restores backup {@code id} into {@code target}, which must not exist or be empty. The whole
     * backup is verified first, and every byte again as it is copied; a damaged backup is refused
     * before anything is written. {@code CURRENT} is written last (temporary name, rename,
     * directory fsync) after every other file is fsynced, so a restore cut short is never opened
     * as a database; a restore that fails with an exception deletes what it wrote.
     *
     * @throws IllegalArgumentException if there is no backup {@code id}, or {@code target} is not empty
     * @throws CorruptionException naming the damaged file (relative to the backup directory)
     * @throws StorageException on an I/O error
     */
    public BackupInfo restore(long id, Path target, ProgressListener listener) {
        BackupManifest m = readManifest(id);
        List<Problem> problems = verify(id, listener == null ? null : (done, total) -> listener.progress(done, 2 * total));
        if (!problems.isEmpty()) {
            Problem first = problems.get(0);
            throw new CorruptionException(first.file(), 0, "backup " + id + " is damaged, refusing to restore it: "
                    + first + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more)" : ""));
        }
        List<String> written = new ArrayList<>();
        NioStorage out = null;
        try {
            Checkpoint.requireEmptyOrAbsent(target);
            out = NioStorage.open(target);
            long[] done = {m.bytes()};
            long total = 2 * m.bytes();
            BackupManifest.File current = null;
            for (BackupManifest.File f : m.files()) {
                if (f.name().equals(FileNames.CURRENT)) {
                    current = f;
                    continue;
                }
                written.add(f.name());
                copyChecked(f, out, f.name(), bytes -> report(listener, done[0] += bytes, total));
            }
            if (current == null) {
                throw new CorruptionException(META + "/" + BackupManifest.name(id), 0, "backup " + id
                        + " holds no " + FileNames.CURRENT);
            }
            written.add(FileNames.LOCK);
            Checkpoint.createLockFile(out);
            out.syncDirectory();
            written.add(0, FileNames.CURRENT);
            written.add(FileNames.CURRENT_TEMP);
            copyChecked(current, out, FileNames.CURRENT_TEMP, bytes -> report(listener, done[0] += bytes, total));
            out.rename(FileNames.CURRENT_TEMP, FileNames.CURRENT);
            out.syncDirectory();
            return info(m);
        } catch (IOException | RuntimeException e) {
            if (out != null) {
                for (String name : written) {
                    try {
                        out.delete(name);
                    } catch (IOException | RuntimeException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
            }
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new StorageException("restore of backup " + id + " into " + target + " failed: " + e, e);
        }
    }

    /** The id of the newest backup. @throws IllegalArgumentException if there is none */
    public long latest() {
        List<Long> ids = ids();
        if (ids.isEmpty()) {
            throw new IllegalArgumentException("backup directory " + root + " holds no backup");
        }
        return ids.get(ids.size() - 1);
    }

    /**
     * Keeps the newest {@code keep} backups and deletes the others: their manifests first (each
     * deletion durable before any file goes), then every stored file no kept backup names, and
     * the leftovers of backups cut short.
     *
     * @return the ids of the deleted backups, oldest first
     * @throws IllegalArgumentException if {@code keep} is less than 1
     */
    public List<Long> purge(int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be at least 1: " + keep);
        }
        List<Long> ids = ids();
        List<Long> deleted = new ArrayList<>(ids.subList(0, Math.max(0, ids.size() - keep)));
        try {
            for (long id : deleted) {
                meta.delete(BackupManifest.name(id));
            }
            meta.syncDirectory();
            Set<String> referenced = new HashSet<>();
            Set<String> keptPrivate = new HashSet<>();
            for (BackupManifest m : manifests()) {
                keptPrivate.add(BackupManifest.name(m.id()));
                for (BackupManifest.File f : m.files()) {
                    referenced.add(f.storedPath());
                }
            }
            for (String name : shared.list()) {
                if (!referenced.contains(SHARED + "/" + name)) {
                    shared.delete(name);
                }
            }
            shared.syncDirectory();
            try (Stream<Path> dirs = Files.list(root.resolve(PRIVATE))) {
                for (Path dir : dirs.toList()) {
                    if (!keptPrivate.contains(dir.getFileName().toString())) {
                        deleteRecursively(dir);
                    }
                }
            }
            NioStorage.open(root.resolve(PRIVATE)).syncDirectory();
        } catch (IOException e) {
            throw new StorageException("purging backups in " + root + " failed: " + e, e);
        }
        return deleted;
    }

    /** Releases the backup directory's lock. */
    @Override
    public void close() {
        try {
            lock.close();
        } catch (IOException e) {
            throw new StorageException("cannot release the lock of backup directory " + root + ": " + e, e);
        }
    }

    /** Copies the checkpoint in {@code checkpoint} into backup {@code id} and writes its manifest last. */
    private BackupInfo store(long id, long version, Path checkpoint, ProgressListener listener) throws IOException {
        NioStorage source = NioStorage.open(checkpoint);
        NioStorage privateFiles = NioStorage.open(root.resolve(PRIVATE).resolve(BackupManifest.name(id)));
        List<String> names = new ArrayList<>(source.list());
        names.remove(FileNames.LOCK); // empty; a restore creates its own
        names.sort(null);
        long total = 0;
        for (String name : names) {
            total += source.size(name);
        }
        long[] done = {0};
        long totalBytes = total;
        Counter progress = bytes -> report(listener, done[0] += bytes, totalBytes);
        List<BackupManifest.File> files = new ArrayList<>();
        for (String name : names) {
            long size = source.size(name);
            if (isShared(name)) {
                int crc = crc32c(source, name, size, progress);
                String key = name + "_" + size + "_" + BackupManifest.hex(crc);
                if (!shared.exists(key)) {
                    int copied = copy(source, name, size, shared, key + TEMPORARY_SUFFIX, null);
                    if (copied != crc) {
                        throw new IOException(name + " changed while it was backed up");
                    }
                    shared.rename(key + TEMPORARY_SUFFIX, key);
                }
                files.add(new BackupManifest.File(name, size, crc, SHARED + "/" + key));
            } else {
                int crc = copy(source, name, size, privateFiles, name, progress);
                files.add(new BackupManifest.File(name, size, crc, PRIVATE + "/" + BackupManifest.name(id) + "/" + name));
            }
        }
        shared.syncDirectory();
        privateFiles.syncDirectory();
        NioStorage.open(root.resolve(PRIVATE)).syncDirectory();
        BackupManifest manifest = new BackupManifest(id, version, System.currentTimeMillis(), files);
        String name = BackupManifest.name(id);
        meta.delete(name + TEMPORARY_SUFFIX);
        try (WritableFile out = meta.create(name + TEMPORARY_SUFFIX)) {
            out.append(ByteBuffer.wrap(manifest.encode()));
            out.sync();
        }
        meta.rename(name + TEMPORARY_SUFFIX, name);
        meta.syncDirectory();
        return info(manifest);
    }

    /** Tables and value-log files are stored once, shared by every backup holding the same bytes. */
    private static boolean isShared(String name) {
        return FileNames.parseNumber(name, FileNames.Kind.TABLE) >= 0
                || FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG) >= 0;
    }

    private BackupInfo info(BackupManifest m) {
        for (BackupInfo info : list()) {
            if (info.id() == m.id()) {
                return info;
            }
        }
        throw new IllegalStateException("backup " + m.id() + " is not listed");
    }

    /** Bytes processed since the last call. */
    private interface Counter {
        void add(long bytes);
    }

    private static void report(ProgressListener listener, long done, long total) {
        if (listener != null) {
            listener.progress(done, total);
        }
    }

    /** Copies and returns the CRC32C of the bytes copied. */
    private static int copy(Storage from, String name, long size, Storage to, String targetName, Counter progress)
            throws IOException {
        CRC32C crc = new CRC32C();
        FileCopy.copy(from, name, size, to, targetName, chunk -> {
            int bytes = chunk.remaining();
            crc.update(chunk);
            if (progress != null) {
                progress.add(bytes);
            }
        });
        return (int) crc.getValue();
    }

    /** The CRC32C of the first {@code size} bytes of a file. @throws java.io.EOFException if it is shorter */
    private static int crc32c(Storage storage, String name, long size, Counter progress) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
        try (ReadableFile in = storage.openRead(name)) {
            long position = 0;
            while (position < size) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), size - position));
                int read = in.read(position, buffer);
                if (read <= 0) {
                    throw new EOFException(name + " ends at " + position + " bytes, not " + size);
                }
                buffer.flip();
                crc.update(buffer);
                position += read;
                if (progress != null) {
                    progress.add(read);
                }
            }
        }
        return (int) crc.getValue();
    }

    /** Presence, size and checksum of a stored file; null if it is intact. */
    private String check(BackupManifest.File f, Counter progress) {
        try {
            Storage dir = storedDirectory(f.storedPath());
            String name = fileName(f.storedPath());
            if (!dir.exists(name)) {
                return "missing";
            }
            long size = dir.size(name);
            if (size != f.size()) {
                return "is " + size + " bytes, the backup manifest records " + f.size();
            }
            int crc = crc32c(dir, name, size, progress);
            if (crc != f.crc32c()) {
                return "crc32c " + BackupManifest.hex(crc) + " does not match the recorded " + BackupManifest.hex(f.crc32c());
            }
            return null;
        } catch (IOException e) {
            return "unreadable: " + e;
        }
    }

    /** Copies a stored file into {@code out}, checking its size and CRC32C on the way. */
    private void copyChecked(BackupManifest.File f, Storage out, String targetName, Counter progress) throws IOException {
        int crc = copy(storedDirectory(f.storedPath()), fileName(f.storedPath()), f.size(), out, targetName, progress);
        if (crc != f.crc32c()) {
            throw new CorruptionException(f.storedPath(), 0, f.storedPath() + " changed while it was restored: crc32c "
                    + BackupManifest.hex(crc) + ", recorded " + BackupManifest.hex(f.crc32c()));
        }
    }

    private Storage storedDirectory(String storedPath) throws IOException {
        int slash = storedPath.lastIndexOf('/');
        Path dir = root.resolve(storedPath.substring(0, slash)).normalize();
        if (!dir.startsWith(root) || !(storedPath.startsWith(SHARED + "/") || storedPath.startsWith(PRIVATE + "/"))) {
            throw new IOException("stored path " + storedPath + " lies outside the backup directory's files");
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException("directory " + dir + " is missing");
        }
        return NioStorage.open(dir);
    }

    private static String fileName(String storedPath) {
        return storedPath.substring(storedPath.lastIndexOf('/') + 1);
    }

    /** Ids of complete backups (a manifest in {@code meta/}), ascending. */
    private List<Long> ids() {
        try {
            List<Long> ids = new ArrayList<>();
            for (String name : meta.list()) {
                if (name.length() >= 6 && name.chars().allMatch(Character::isDigit)) {
                    ids.add(Long.parseLong(name));
                }
            }
            ids.sort(null);
            return ids;
        } catch (IOException e) {
            throw new StorageException("cannot list backups in " + root + ": " + e, e);
        }
    }

    private long nextId() {
        List<Long> ids = ids();
        long next = ids.isEmpty() ? 1 : ids.get(ids.size() - 1) + 1;
        try (Stream<Path> dirs = Files.exists(root.resolve(PRIVATE)) ? Files.list(root.resolve(PRIVATE)) : Stream.empty()) {
            for (Path dir : dirs.toList()) { // a backup cut short: its id is not reused until purged
                String name = dir.getFileName().toString();
                if (name.chars().allMatch(Character::isDigit) && !name.isEmpty()) {
                    next = Math.max(next, Long.parseLong(name) + 1);
                }
            }
        } catch (IOException e) {
            throw new StorageException("cannot list " + root.resolve(PRIVATE) + ": " + e, e);
        }
        return next;
    }

    /** The manifests of every complete backup, oldest first. */
    private List<BackupManifest> manifests() {
        List<BackupManifest> all = new ArrayList<>();
        for (long id : ids()) {
            all.add(readManifest(id));
        }
        return all;
    }

    /**
     * Reads and checks backup {@code id}'s manifest.
     *
     * @throws IllegalArgumentException if there is no backup {@code id}
     * @throws CorruptionException naming {@code meta/NNNNNN} if its manifest is damaged
     */
    private BackupManifest readManifest(long id) {
        String name = BackupManifest.name(id);
        try {
            if (!meta.exists(name)) {
                throw new IllegalArgumentException("no backup " + id + " in " + root);
            }
            long size = meta.size(name);
            if (size > MAX_MANIFEST_BYTES) {
                throw new CorruptionException(META + "/" + name, 0, META + "/" + name + " is " + size
                        + " bytes, too large for a backup manifest");
            }
            ByteBuffer bytes = ByteBuffer.allocate((int) size);
            try (ReadableFile in = meta.openRead(name)) {
                in.read(0, bytes);
            }
            BackupManifest m;
            try {
                m = BackupManifest.decode(bytes.array());
            } catch (IllegalArgumentException e) {
                throw new CorruptionException(META + "/" + name, 0, META + "/" + name + ": " + e.getMessage(), e);
            }
            if (m.id() != id) {
                throw new CorruptionException(META + "/" + name, 0, META + "/" + name + " describes backup " + m.id());
            }
            return m;
        } catch (IOException e) {
            throw new StorageException("cannot read " + META + "/" + name + " in " + root + ": " + e, e);
        }
    }

    private static void deleteRecursively(Path directory) {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new StorageException("cannot delete " + directory + ": " + e, e);
        }
    }
}
