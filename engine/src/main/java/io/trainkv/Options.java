package io.trainkv;

import io.trainkv.storage.Storage;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Objects;

/**
 * Settings for {@link TrainKV#open(Options)}. Every tunable has a documented default; setters
 * return {@code this} so that options read as one expression:
 * <pre>{@code
 * TrainKV db = TrainKV.open(Options.at(Path.of("data")).memtableSize(16 << 20).syncWrites(true));
 * }</pre>
 */
public final class Options {

    /** Longest key accepted: 64 KiB. */
    public static final int MAX_KEY_SIZE = 64 * 1024;

    /** Longest value accepted: 16 MiB. */
    public static final int MAX_VALUE_SIZE = 16 * 1024 * 1024;

    /** Default {@link #memtableSize(long)}: 64 MiB. */
    public static final long DEFAULT_MEMTABLE_SIZE = 64L * 1024 * 1024;

    /** Smallest accepted {@link #memtableSize(long)}: 64 KiB. */
    public static final long MIN_MEMTABLE_SIZE = 64L * 1024;

    /** Largest accepted {@link #memtableSize(long)}: 1 GiB. */
    public static final long MAX_MEMTABLE_SIZE = 1L << 30;

    private final Path directory;
    private final boolean temporary;
    private Storage storage;
    private long memtableSize = DEFAULT_MEMTABLE_SIZE;
    private boolean syncWrites;
    private Clock clock = Clock.systemUTC();

    private Options(Path directory, boolean temporary) {
        this.directory = directory;
        this.temporary = temporary;
    }

    /** Options for a database in {@code directory}, created (owner-only) if it does not exist. */
    public static Options at(Path directory) {
        return new Options(Objects.requireNonNull(directory, "directory"), false);
    }

    /** Options for a database in a new temporary directory that {@link TrainKV#close()} deletes. */
    public static Options inTempDirectory() {
        return new Options(null, true);
    }

    /**
     * Size at which the active memtable is frozen and a new one (with a new WAL file) started.
     * Default {@value #DEFAULT_MEMTABLE_SIZE} bytes; between {@value #MIN_MEMTABLE_SIZE} and
     * {@value #MAX_MEMTABLE_SIZE}. It also bounds the size of one write batch.
     */
    public Options memtableSize(long bytes) {
        if (bytes < MIN_MEMTABLE_SIZE || bytes > MAX_MEMTABLE_SIZE) {
            throw new IllegalArgumentException("memtableSize must be between " + MIN_MEMTABLE_SIZE
                    + " and " + MAX_MEMTABLE_SIZE + " bytes: " + bytes);
        }
        this.memtableSize = bytes;
        return this;
    }

    /**
     * Whether every write is fsynced before it is acknowledged. Default false: a write survives a
     * process crash as soon as it returns, and a power failure once a later synced write or
     * {@link TrainKV#sync()} returns. A write can also ask for sync on its own.
     */
    public Options syncWrites(boolean sync) {
        this.syncWrites = sync;
        return this;
    }

    /** The clock that decides TTL expiry. Default: the system UTC clock. Tests pass a fixed clock. */
    public Options clock(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        return this;
    }

    /**
     * Runs the database on a custom {@link Storage} (for example an in-memory or fault-injecting
     * one) instead of the directory. Default: files under {@link #directory()}.
     */
    public Options storage(Storage storage) {
        this.storage = Objects.requireNonNull(storage, "storage");
        return this;
    }

    /** The database directory, or null for {@link #inTempDirectory()} or a custom storage. */
    public Path directory() {
        return directory;
    }

    public boolean isTemporary() {
        return temporary;
    }

    public Storage storage() {
        return storage;
    }

    public long memtableSize() {
        return memtableSize;
    }

    public boolean syncWrites() {
        return syncWrites;
    }

    public Clock clock() {
        return clock;
    }
}
