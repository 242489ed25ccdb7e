package io.trainkv;

import io.trainkv.memtable.MemTable;
import io.trainkv.storage.DirectoryLock;
import io.trainkv.storage.DirectoryLockedException;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.Storage;
import io.trainkv.txn.VersionClock;
import io.trainkv.util.Bytes;
import io.trainkv.util.ValueStruct;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * An open TrainKV database: an embedded, crash-safe key-value store.
 *
 * <pre>{@code
 * try (TrainKV db = TrainKV.open(Options.at(Path.of("data")))) {
 *     db.set("answer", "42");
 *     String v = db.get("answer");   // "42"
 *     db.delete("answer");
 * }
 * }</pre>
 *
 * <p>All methods are thread-safe. Writes are grouped: concurrent writers share one WAL append and
 * at most one fsync. Reads never block on writes. After {@link #close()}, every method throws
 * {@link IllegalStateException}.
 */
public final class TrainKV implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(TrainKV.class.getName());

    private final Options options;
    private final Storage storage;
    private final DirectoryLock directoryLock;
    private final Path temporaryDirectory;
    private final WritePipeline pipeline;
    private volatile boolean closed;

    private TrainKV(Options options, Storage storage, DirectoryLock directoryLock, Path temporaryDirectory,
                    WritePipeline pipeline) {
        this.options = options;
        this.storage = storage;
        this.directoryLock = directoryLock;
        this.temporaryDirectory = temporaryDirectory;
        this.pipeline = pipeline;
    }

    /**
     * Opens (creating if needed) the database described by {@code options}, replaying its
     * write-ahead logs.
     *
     * @throws DatabaseLockedException if another process or another open instance owns the directory
     * @throws CorruptionException if a log is damaged other than by a torn tail
     * @throws StorageException on an I/O error
     */
    public static TrainKV open(Options options) {
        Path temporary = null;
        Storage storage;
        try {
            if (options.storage() != null) {
                storage = options.storage();
            } else if (options.isTemporary()) {
                temporary = Files.createTempDirectory("trainkv-");
                storage = NioStorage.open(temporary);
            } else {
                storage = NioStorage.open(options.directory());
            }
        } catch (IOException e) {
            throw new StorageException("cannot open database directory " + options.directory() + ": " + e, e);
        }
        DirectoryLock lock;
        try {
            lock = storage.lock(FileNames.LOCK);
        } catch (DirectoryLockedException e) {
            throw new DatabaseLockedException(e.getMessage(), e);
        } catch (IOException e) {
            throw new StorageException("cannot lock database directory " + storage.describe() + ": " + e, e);
        }
        try {
            VersionClock clock = new VersionClock();
            List<Long> walNumbers = new ArrayList<>();
            long maxFileNumber = 0;
            for (String name : storage.list()) {
                for (FileNames.Kind kind : FileNames.Kind.values()) {
                    long number = FileNames.parseNumber(name, kind);
                    maxFileNumber = Math.max(maxFileNumber, number);
                    if (kind == FileNames.Kind.WAL && number >= 0) {
                        walNumbers.add(number);
                    }
                }
            }
            Collections.sort(walNumbers);
            WalReplay.Result replayed = WalReplay.replay(storage, walNumbers);
            clock.advanceTo(replayed.maxVersion);
            WritePipeline pipeline = new WritePipeline(storage, options, clock, replayed.memtables, maxFileNumber + 1);
            return new TrainKV(options, storage, lock, temporary, pipeline);
        } catch (IOException | RuntimeException e) {
            closeQuietly(lock);
            if (temporary != null) {
                deleteRecursively(temporary);
            }
            if (e instanceof RuntimeException) {
                throw (RuntimeException) e;
            }
            throw new StorageException("cannot open database in " + storage.describe() + ": " + e, e);
        }
    }

    /** Sets {@code key} to {@code value}. */
    public void set(byte[] key, byte[] value) {
        set(Entry.of(key, value));
    }

    /** Sets a UTF-8 encoded key to a UTF-8 encoded value. */
    public void set(String key, String value) {
        write(new WriteBatch().set(key, value));
    }

    /** Sets an entry with its TTL and user meta. */
    public void set(Entry entry) {
        write(new WriteBatch().set(entry));
    }

    /** The value of {@code key}, or null if it is absent, deleted or expired. */
    public byte[] get(byte[] key) {
        Entry entry = getEntry(key);
        return entry == null ? null : entry.value();
    }

    /** The value of a UTF-8 encoded key as text, or null. */
    public String get(String key) {
        byte[] value = get(Bytes.utf8(requireKey(key)));
        return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }

    /**
     * The entry stored under {@code key} with its user meta and absolute expiry, or null if it is
     * absent, deleted or expired.
     */
    public Entry getEntry(byte[] key) {
        WriteBatch.checkKey(key);
        checkOpen();
        long readVersion = pipeline.visibleVersion();
        for (MemTable memtable : pipeline.memtables()) {
            ValueStruct found = memtable.get(key, readVersion);
            if (found != null) {
                if (found.isTombstone() || found.isExpiredAt(options.clock().millis())) {
                    return null;
                }
                return Entry.stored(key, found.value(), found.userMeta(), found.expiresAtMillis());
            }
        }
        return null;
    }

    /** Deletes {@code key}; deleting an absent key is not an error. */
    public void delete(byte[] key) {
        write(new WriteBatch().delete(key));
    }

    /** Deletes a UTF-8 encoded key. */
    public void delete(String key) {
        write(new WriteBatch().delete(key));
    }

    /** Applies {@code batch} atomically, synced if {@link Options#syncWrites(boolean)} is set. */
    public void write(WriteBatch batch) {
        write(batch, false);
    }

    /**
     * Applies {@code batch} atomically; with {@code sync} the call returns only once the batch is on
     * stable storage, whatever {@link Options#syncWrites(boolean)} says.
     */
    public void write(WriteBatch batch, boolean sync) {
        if (batch == null) {
            throw new IllegalArgumentException("batch must not be null");
        }
        checkOpen();
        if (!batch.isEmpty()) {
            pipeline.write(batch, sync);
        }
    }

    /** Makes every write acknowledged so far durable (one WAL fsync). */
    public void sync() {
        checkOpen();
        pipeline.sync();
    }

    /** Counters of the write path and memory use. */
    public Stats stats() {
        checkOpen();
        return pipeline.stats();
    }

    /**
     * The database directory: the one given to {@link Options#at(Path)}, the temporary one made by
     * {@link Options#inTempDirectory()}, or null when running on a custom {@link Options#storage(Storage)}.
     */
    public Path directory() {
        if (options.storage() != null) {
            return null;
        }
        return temporaryDirectory != null ? temporaryDirectory : options.directory();
    }

    /** The write pipeline, for tests in this package. */
    WritePipeline pipeline() {
        return pipeline;
    }

    /**
     * Waits for in-flight writes, syncs and closes the WAL, releases the directory lock and, for
     * {@link Options#inTempDirectory()}, deletes the directory. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        IOException failure = null;
        try {
            pipeline.close();
        } catch (IOException e) {
            failure = e;
        }
        try {
            directoryLock.close();
        } catch (IOException e) {
            failure = failure == null ? e : failure;
        }
        if (temporaryDirectory != null) {
            deleteRecursively(temporaryDirectory);
        }
        if (failure != null) {
            throw new StorageException("error while closing database in " + storage.describe() + ": " + failure, failure);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("database is closed");
        }
    }

    private static String requireKey(String key) {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        return key;
    }

    private static void closeQuietly(DirectoryLock lock) {
        try {
            lock.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot release directory lock", e);
        }
    }

    private static void deleteRecursively(Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete temporary database directory " + directory, e);
        }
    }
}
