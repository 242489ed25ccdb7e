package io.trainkv;

import io.trainkv.cache.BlockCache;
import io.trainkv.compaction.CompactionSettings;
import io.trainkv.compaction.Compactor;
import io.trainkv.manifest.LevelIterator;
import io.trainkv.manifest.TableHandle;
import io.trainkv.manifest.Version;
import io.trainkv.manifest.VersionSet;
import io.trainkv.memtable.MemTable;
import io.trainkv.storage.DirectoryLock;
import io.trainkv.storage.DirectoryLockedException;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.Storage;
import io.trainkv.txn.SnapshotRegistry;
import io.trainkv.txn.VersionClock;
import io.trainkv.util.Bytes;
import io.trainkv.util.InternalIterator;
import io.trainkv.util.MergingIterator;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import io.trainkv.vlog.ValueLog;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 * {@link IllegalStateException}. Opened with {@link Options#readOnly(boolean)}, it serves reads
 * only: writes, flushes, syncs, compactions and value-log GC throw {@link ReadOnlyException}.
 */
public final class TrainKV implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(TrainKV.class.getName());

    private final Options options;
    private final Storage storage;
    private final DirectoryLock directoryLock;
    private final Path temporaryDirectory;
    private final VersionSet versions;
    private final ValueLog valueLog;
    private final Flusher flusher;
    private final Compactor compactor;
    private final SnapshotRegistry snapshots;
    private final WritePipeline pipeline;
    private final PipelineLink background;
    private final BlockCache blockCache;
    private final BlockCache indexCache;
    private final ValueLogGc valueLogGc;
    private final ScheduledExecutorService gcScheduler;
    private final ValueLogGcTrigger gcTrigger;
    private final Set<DbIterator> openIterators = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private TrainKV(Options options, Storage storage, DirectoryLock directoryLock, Path temporaryDirectory,
                    VersionSet versions, ValueLog valueLog, Flusher flusher, Compactor compactor,
                    SnapshotRegistry snapshots, WritePipeline pipeline, PipelineLink background, BlockCache blockCache,
                    BlockCache indexCache) {
        this.options = options;
        this.storage = storage;
        this.directoryLock = directoryLock;
        this.temporaryDirectory = temporaryDirectory;
        this.versions = versions;
        this.valueLog = valueLog;
        this.flusher = flusher;
        this.compactor = compactor;
        this.snapshots = snapshots;
        this.pipeline = pipeline;
        this.background = background;
        this.blockCache = blockCache;
        this.indexCache = indexCache;
        this.valueLogGc = new ValueLogGc(this, pipeline, valueLog, versions, snapshots, options);
        this.gcScheduler = startAutomaticGc(options);
        this.gcTrigger = gcScheduler == null ? null : new ValueLogGcTrigger(valueLogGc, valueLog, versions,
                options.gcDiscardRatio(), gcScheduler, background::failBackground);
        background.gcTrigger = gcTrigger;
    }

    /**
     * Runs value-log GC every {@link Options#gcInterval()} unless that is zero or the database is
     * read-only; the same thread runs the GC that flushes and compactions trigger when a file's
     * discard statistics cross {@link Options#gcDiscardRatio()} ({@link ValueLogGcTrigger}). A failed run is logged and the next one runs as usual; an {@link Error} makes the
     * database refuse writes and ends the schedule.
     */
    private ScheduledExecutorService startAutomaticGc(Options options) {
        if (options.gcInterval().isZero() || options.readOnly()) {
            return null;
        }
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "trainkv-vlog-gc");
            thread.setDaemon(true);
            return thread;
        });
        long millis = options.gcInterval().toMillis();
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                ValueLogGcReport report = valueLogGc.runAutomatic(options.gcDiscardRatio());
                if (report.collectedFiles() > 0) {
                    LOG.log(System.Logger.Level.INFO, () -> "value-log GC collected " + report.collectedFiles()
                            + " files, " + report.reclaimedBytes() + " bytes");
                }
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.WARNING, "automatic value-log GC failed", e);
                }
            } catch (Error e) { // GC may be half done: writes stop, and so does this schedule
                background.failBackground(e);
                LOG.log(System.Logger.Level.ERROR, "automatic value-log GC failed; the database refuses writes", e);
                throw e;
            }
        }, millis, millis, TimeUnit.MILLISECONDS);
        return scheduler;
    }

    /**
     * Opens (creating if needed) the database described by {@code options}, replaying its
     * write-ahead logs. With {@link Options#readOnly(boolean)} the directory must already hold a
     * database, and open and close recover the same state in memory without creating, appending
     * to, truncating, renaming or deleting any file: no new WAL, value-log file or manifest, no
     * torn-tail cut, no orphan deletion, no flush, compaction or GC.
     *
     * @throws DatabaseLockedException if another process or another open instance owns the directory
     * @throws CorruptionException naming the file and offset, if a file is damaged other than by a
     *         torn tail, or (naming {@code CURRENT}) if the directory holds a database's files but no
     *         {@code CURRENT}; an open that fails so has changed no file (see {@link Recovery})
     * @throws StorageException on an I/O error, or if a read-only open finds no database
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
            } else if (options.readOnly() && !Files.isDirectory(options.directory())) {
                throw notADatabase(options.directory().toString(), "no such directory");
            } else {
                storage = NioStorage.open(options.directory());
            }
            if (options.readOnly()) {
                checkOpenableReadOnly(storage);
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
        VersionSet versions = null;
        BlockCache blockCache = null;
        BlockCache indexCache = null;
        ValueLog valueLog = null;
        Flusher flusher = null;
        Compactor compactor = null;
        try {
            blockCache = options.blockCacheBytes() > 0 ? new BlockCache(options.blockCacheBytes(), options.blockSize()) : null;
            indexCache = options.indexCacheBytes() > 0 ? new BlockCache(options.indexCacheBytes(), 64 * 1024) : null;
            Recovery.Recovered recovered = Recovery.run(storage, options, blockCache, indexCache);
            versions = recovered.versions();
            valueLog = recovered.valueLog();
            VersionClock clock = new VersionClock();
            clock.advanceTo(recovered.lastVersion());
            PipelineLink link = new PipelineLink();
            SnapshotRegistry snapshots = new SnapshotRegistry(link::visibleVersion);
            compactor = new Compactor(storage, versions, snapshots, options.clock(),
                    new CompactionSettings(options.compactionThreads(), options.baseLevelSize(),
                            options.levelSizeMultiplier(), options.level0CompactionTrigger(), options.targetFileSize(),
                            options.blockSize(), options.bloomBitsPerKey()),
                    () -> {
                        link.signalBackgroundProgress();
                        link.valueLogDiscardsRecorded();
                    }, link::failBackground);
            Compactor compactorForFlush = compactor;
            flusher = new Flusher(storage, options, versions, clock, snapshots::oldest, () -> {
                compactorForFlush.maybeSchedule();
                link.valueLogDiscardsRecorded();
            }, link::failBackground);
            link.flusher = flusher;
            link.compactor = compactor;
            WritePipeline pipeline = new WritePipeline(storage, options, clock, versions, valueLog,
                    recovered.memtables(), flusher::schedule);
            link.pipeline = pipeline;
            flusher.attach(pipeline);
            if (!options.readOnly()) { // read-only: the replayed memtables stay in memory, the levels as they are
                flusher.schedule();
                compactor.maybeSchedule();
            }
            return new TrainKV(options, storage, lock, temporary, versions, valueLog, flusher, compactor,
                    snapshots, pipeline, link, blockCache, indexCache);
        } catch (IOException | RuntimeException | Error e) { // an Error too: the lock must not outlive a failed open
            if (flusher != null) {
                flusher.close();
            }
            if (compactor != null) {
                compactor.close();
            }
            if (valueLog != null) {
                closeQuietly(valueLog);
            }
            if (versions != null) {
                closeQuietly(versions);
            }
            closeQuietly(lock);
            if (temporary != null) {
                deleteRecursively(temporary);
            }
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e instanceof Error error) {
                throw error;
            }
            throw new StorageException("cannot open database in " + storage.describe() + ": " + e, e);
        }
    }

    /**
     * A read-only open creates nothing, so the directory must already hold {@code CURRENT} (else it
     * is no database) and {@code LOCK} (locking would create it; every database opened read-write
     * has one).
     */
    private static void checkOpenableReadOnly(Storage storage) throws IOException {
        if (!storage.exists(FileNames.CURRENT)) {
            throw notADatabase(storage.describe(), "no " + FileNames.CURRENT + " file");
        }
        if (!storage.exists(FileNames.LOCK)) {
            throw new StorageException("database directory " + storage.describe() + " has no " + FileNames.LOCK
                    + " file, and a read-only open creates none; create an empty " + FileNames.LOCK
                    + " file to open it read-only", null);
        }
    }

    private static StorageException notADatabase(String directory, String reason) {
        return new StorageException(directory + " is not a TrainKV database (" + reason
                + "); a read-only open creates nothing", null);
    }

    /** Sets {@code key} to {@code value}. */
    public void set(byte[] key, byte[] value) {
        WriteBatch.checkKey(key);
        WriteBatch.checkValue(value);
        checkWritable();
        pipeline.set(key, value, false);
    }

    /** Sets a UTF-8 encoded key to a UTF-8 encoded value. */
    public void set(String key, String value) {
        write(new WriteBatch().set(key, value));
    }

    /** Sets an entry with its TTL and user meta. */
    public void set(Entry entry) {
        WriteBatch.checkSet(entry);
        checkWritable();
        pipeline.set(entry, false);
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
        ValueStruct previous = null;
        while (true) {
            ValueStruct found = newestEntry(key);
            if (found == null || found.isTombstone() || found.isExpiredBy(options.clock())) {
                return null;
            }
            byte[] value = resolve(found);
            if (value != null) {
                return Entry.stored(key, value, found.userMeta(), found.expiresAtMillis());
            }
            // The value's log file was collected after this read started: GC made the key's newer
            // entry visible before that, so reading again finds it. Finding the same entry again
            // means the collected file still holds the newest value.
            if (previous != null && previous.version() == found.version()
                    && previous.pointer().equals(found.pointer())) {
                throw collectedButReferenced(found, "the newest version of a key");
            }
            previous = found;
        }
    }

    /**
     * The newest entry of {@code key} at the visible version, as stored (tombstone, expired or
     * pointer), or null.
     */
    ValueStruct newestEntry(byte[] key) {
        return lookup(key, -1);
    }

    /** The newest entry of {@code key} at {@code readVersion} (which a snapshot must hold), as stored, or null. */
    ValueStruct entryAt(byte[] key, long readVersion) {
        checkOpen();
        return lookup(key, readVersion);
    }

    private ValueStruct lookup(byte[] key, long fixedReadVersion) {
        // Memtables, then tables, then the read version: a flush moves data from the first to the
        // second in that order, and every version a compaction in the tables dropped is shadowed
        // by one at or below the read version (or kept for the snapshot at a fixed read version).
        List<MemTable> memtables = pipeline.memtables();
        Version version = versions.acquireCurrent();
        try {
            long readVersion = fixedReadVersion >= 0 ? fixedReadVersion : pipeline.visibleVersion();
            for (MemTable memtable : memtables) {
                ValueStruct found = memtable.get(key, readVersion);
                if (found != null) {
                    return found;
                }
            }
            return version.get(key, readVersion);
        } finally {
            version.unref();
        }
    }

    long nowMillis() {
        return options.clock().millis();
    }

    /**
     * The error for an entry a reader must see that points into a collected value-log file: GC
     * moves every live value out of a file before recording it as collected, and keeps the file
     * for readers older than the move.
     */
    static CorruptionException collectedButReferenced(ValueStruct entry, String what) {
        ValuePointer pointer = entry.pointer();
        String name = FileNames.name(pointer.fileId(), FileNames.Kind.VALUE_LOG);
        return new CorruptionException(name, pointer.offset(), "value log " + name + " was collected but " + what
                + " still points into it (version " + entry.version() + ", offset " + pointer.offset() + ")");
    }

    /** Reads a merged view of every version of every key. */
    interface AllVersionsReader<T> {
        /**
         * @param all memtables and tables merged, every version of every key, not yet positioned
         * @param visibleVersion the newest version readers see as the view was taken
         */
        T read(MergingIterator all, long visibleVersion);
    }

    /**
     * Runs {@code reader} over the memtables and the current tables merged (for whole-tree walks
     * of value-log GC and commit validation), holding the tables until it returns.
     */
    <T> T readAllVersions(AllVersionsReader<T> reader) {
        checkOpen();
        List<MemTable> memtables = pipeline.memtables();
        Version version = versions.acquireCurrent();
        long visibleVersion = pipeline.visibleVersion();
        try (MergingIterator all = new MergingIterator(sources(memtables, version, false), false)) {
            return reader.read(all, visibleVersion);
        } finally {
            version.unref();
        }
    }

    /** The value bytes of a live entry, following a value pointer; null if its log file is gone. */
    byte[] resolve(ValueStruct entry) {
        if (!entry.isValuePointer()) {
            return entry.value();
        }
        try {
            return valueLog.read(entry.pointer());
        } catch (IOException e) {
            throw new StorageException("cannot read the value log: " + e, e);
        }
    }

    /**
     * An iterator over a consistent snapshot of the database (every write acknowledged before
     * this call, none after), in the direction and bounds of {@code options}. Close it: it pins
     * the tables and versions it reads.
     */
    public DbIterator iterator(IteratorOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("iterator options must not be null");
        }
        checkOpen();
        // Snapshot first (so compaction keeps what it sees), then memtables, then tables.
        return openIterator(options, snapshots.acquireLatest(), null);
    }

    /** An iterator at a transaction's read version, with its pending writes merged in front. */
    DbIterator iteratorAt(IteratorOptions options, long readVersion, InternalIterator pendingWrites) {
        checkOpen();
        snapshots.acquire(readVersion);
        return openIterator(options, readVersion, pendingWrites);
    }

    private DbIterator openIterator(IteratorOptions options, long readVersion, InternalIterator first) {
        List<MemTable> memtables = pipeline.memtables();
        Version version = versions.acquireCurrent();
        boolean reverse = options.isReverse();
        List<InternalIterator> children = new ArrayList<>();
        if (first != null) {
            children.add(first);
        }
        children.addAll(sources(memtables, version, reverse));
        DbIterator iterator = new DbIterator(this, new MergingIterator(children, reverse), readVersion, options,
                this.options.clock().millis(), closing -> {
                    openIterators.remove(closing);
                    version.unref();
                    snapshots.release(readVersion);
                    valueLogGc.deleteRetired();
                });
        openIterators.add(iterator);
        if (closed) {
            iterator.close();
            throw new IllegalStateException("database is closed");
        }
        return iterator;
    }

    /**
     * Iterators over every source of data, newest first so that the merge prefers them for equal
     * internal keys: memtables, one iterator per level-0 sublevel (highest first), one iterator
     * per deeper level.
     */
    private static List<InternalIterator> sources(List<MemTable> memtables, Version version, boolean reverse) {
        List<InternalIterator> children = new ArrayList<>();
        for (MemTable memtable : memtables) {
            children.add(memtable.iterator(reverse));
        }
        List<List<TableHandle>> level0 = version.level0Sublevels();
        for (int i = level0.size() - 1; i >= 0; i--) {
            children.add(new LevelIterator(level0.get(i), reverse));
        }
        for (int level = 1; level < version.levelCount(); level++) {
            if (!version.tables(level).isEmpty()) {
                children.add(new LevelIterator(version.tables(level), reverse));
            }
        }
        return children;
    }

    /**
     * Begins a transaction reading at the last committed version. {@code update} allows writes;
     * a read-only transaction is a consistent snapshot. End it with commit, discard or close.
     */
    public Transaction newTransaction(boolean update) {
        if (update) {
            checkWritable();
        } else {
            checkOpen();
        }
        long readVersion = snapshots.acquireLatest();
        return new Transaction(this, update, options.detectConflicts(), readVersion, options.memtableSize() / 2,
                options.valueThreshold());
    }

    /** A read-only transaction: a stable point-in-time view until it is closed. */
    public Transaction snapshot() {
        return newTransaction(false);
    }

    /** Runs {@code body} in a read-write transaction and commits it; a conflict is thrown to the caller. */
    public void update(TransactionBody body) {
        update(body, 1);
    }

    /**
     * Runs {@code body} in a read-write transaction and commits it, running it again in a fresh
     * transaction on {@link ConflictException}, up to {@code maxAttempts} times in all.
     */
    public void update(TransactionBody body, int maxAttempts) {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1: " + maxAttempts);
        }
        for (int attempt = 1; ; attempt++) {
            try (Transaction txn = newTransaction(true)) {
                body.run(txn);
                txn.commit();
                return;
            } catch (ConflictException e) {
                if (attempt >= maxAttempts) {
                    throw e;
                }
            }
        }
    }

    /** Runs {@code fn} in a read-only transaction and returns its result. */
    public <T> T view(TransactionFunction<T> fn) {
        try (Transaction txn = newTransaction(false)) {
            return fn.apply(txn);
        }
    }

    /** Commits a transaction's batch; {@code check} runs at apply time and may refuse it. */
    long commit(WriteBatch batch, java.util.function.UnaryOperator<WriteBatch> check) {
        checkOpen();
        return pipeline.writeChecked(batch, check, false);
    }

    /** Releases a transaction's snapshot. */
    void endTransaction(long readVersion) {
        snapshots.release(readVersion);
        valueLogGc.deleteRetired();
    }

    /** An ascending iterator over every key. */
    public DbIterator iterator() {
        return iterator(IteratorOptions.forward());
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
     *
     * @throws IllegalArgumentException if the batch is null or needs more memtable than
     *         {@link Options#memtableSize(long)}, or an entry's expiry (the write's time plus its
     *         TTL) does not fit in a long; nothing of it is written, and other writes go on
     * @throws StorageException if the write failed; the database then refuses writes until reopened
     */
    public void write(WriteBatch batch, boolean sync) {
        if (batch == null) {
            throw new IllegalArgumentException("batch must not be null");
        }
        checkWritable();
        if (!batch.isEmpty()) {
            pipeline.write(batch, sync);
        }
    }

    /**
     * Writes everything in memory to level-0 tables and waits until it is durable in the
     * manifest; the WALs that backed it are deleted.
     */
    public void flush() {
        checkWritable();
        pipeline.flush();
    }

    /** Makes every write acknowledged so far durable (one WAL fsync). */
    public void sync() {
        checkWritable();
        pipeline.sync();
    }

    /** Counters of the write path and memory use. */
    public Stats stats() {
        checkOpen();
        return StatsCollector.collect(pipeline, versions, compactor, flusher, valueLog, valueLogGc, blockCache,
                indexCache);
    }

    /**
     * Flushes memory, then compacts every table holding keys in {@code [from, to]} (inclusive;
     * null for unbounded) down to the bottom level, on the calling thread. Reads continue
     * meanwhile; background compaction waits.
     */
    public void compactRange(byte[] from, byte[] to) {
        checkWritable();
        pipeline.flush();
        try {
            compactor.compactRange(from, to);
        } catch (IOException e) {
            background.failBackground(e);
            throw new StorageException("compaction failed; the database refuses writes until reopened: " + e, e);
        }
    }

    /** Flushes memory and compacts the whole database into the bottom level. */
    public void flatten() {
        compactRange(null, null);
    }

    /**
     * Collects value-log files whose discard ratio (dropped bytes / file bytes, estimated from
     * compaction statistics and a sample checked against the tree) is at least
     * {@code discardRatio}: their live values move to the head of the log and the files are
     * deleted once no reader needs them. Every eligible file is collected, not only the worst.
     * The active file never is. Concurrent writes of the same keys always win.
     *
     * <p>A file whose entries stop at damage is collected only if the damage is a torn tail left
     * by a crash: no sound entry follows it and no live value lies at or past it.
     *
     * @throws CorruptionException naming the file and the offset of the damage, after collecting
     *         the other eligible files, if an eligible file is damaged other than by a torn tail
     *         (it is left in place)
     */
    public ValueLogGcReport runValueLogGC(double discardRatio) {
        return valueLogGc(discardRatio, false);
    }

    /** Reports each sealed value-log file's discard estimate without rewriting anything. */
    public ValueLogGcReport sampleValueLogGC(double discardRatio) {
        return valueLogGc(discardRatio, true);
    }

    /**
     * Collects exactly the named sealed value-log files, whatever their discard ratio, as
     * {@link #runValueLogGC(double)} collects a file.
     *
     * @throws IllegalArgumentException if an id is not a sealed value-log file (the active file never is)
     * @throws CorruptionException naming the file and the offset of the damage, after collecting
     *         the other named files, if a named file is damaged other than by a torn tail (it is
     *         left in place)
     */
    public ValueLogGcReport collectValueLogFiles(Set<Long> fileIds) {
        checkWritable();
        try {
            return valueLogGc.collect(Set.copyOf(fileIds));
        } catch (IOException e) {
            throw new StorageException("value-log GC failed: " + e, e);
        } catch (Error e) {
            background.failBackground(e);
            throw e;
        }
    }

    private ValueLogGcReport valueLogGc(double discardRatio, boolean sampleOnly) {
        if (!(discardRatio > 0 && discardRatio <= 1)) {
            throw new IllegalArgumentException("discard ratio must be in (0, 1]: " + discardRatio);
        }
        if (sampleOnly) {
            checkOpen();
        } else {
            checkWritable();
        }
        try {
            return valueLogGc.run(discardRatio, sampleOnly);
        } catch (IOException e) {
            throw new StorageException("value-log GC failed: " + e, e);
        } catch (Error e) {
            background.failBackground(e);
            throw e;
        }
    }

    /**
     * Flushes memory and waits until no compaction is running or needed, and until the value-log
     * GC that flushes and compactions started (see {@link Options#gcInterval(java.time.Duration)})
     * has finished, so that the level shape and the value log are settled (before measuring them,
     * or before a bulk load is declared done).
     */
    public void waitForCompactions() {
        checkWritable();
        pipeline.flush();
        compactor.awaitIdle();
        if (gcTrigger != null) {
            try {
                gcTrigger.awaitIdle();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for value-log GC", e);
            }
        }
    }

    /**
     * Writes a checkpoint: a new database directory {@code target} that opens as a TrainKV
     * database holding exactly the writes at or below the returned version {@code v}: every entry
     * (value, delete, value-log GC move) with version &le; v, none above, as a snapshot at
     * {@code v} reads them. Writers, flushes, compactions and value-log GC go on meanwhile.
     *
     * <p>Tables and sealed value-log files are hard-linked when {@code target} is on the same file
     * system (copied otherwise); the unflushed WALs and the active value-log file are copied up to
     * their lengths at {@code v}; a fresh manifest names the checkpoint's tables only. The source's
     * files are never changed, and none it links or copies is deleted before this call returns.
     * Every file and the directory are fsynced before return. {@code CURRENT} is written last, so
     * a checkpoint cut short (a crash) has none, and opening it fails instead of showing a partial
     * database; a checkpoint that fails with an exception deletes what it wrote. Works on a
     * read-only database too. The checkpoint is a separate database: writes to either are not
     * seen by the other.
     *
     * @param target a directory that does not exist or is empty
     * @return the version {@code v} the checkpoint holds (the visible version at the moment it
     *         was taken): a snapshot at {@code v} of this database reads what the checkpoint reads
     * @throws IllegalArgumentException if {@code target} exists and is not an empty directory
     * @throws IllegalStateException if the database is closed
     * @throws StorageException on an I/O error, or if the database refuses writes after an earlier failure
     */
    public long checkpoint(Path target) {
        checkOpen();
        try {
            return Checkpoint.create(storage, versions, valueLog, pipeline, target);
        } catch (IOException e) {
            throw new StorageException("checkpoint into " + target + " failed: " + e, e);
        }
    }

    /**
     * Writes a logical export of the writes in {@code (sinceVersion, v]} to {@code out} and
     * returns {@code v}, the visible version when the call starts: for every key whose newest
     * write at or below {@code v} has a version above {@code sinceVersion}, that one write, a set
     * (value, user meta, absolute expiry) or a delete. Pass the returned {@code v} as the next
     * call's {@code sinceVersion}: consecutive exports then cover every write once, with no gap
     * and no overlap, and importing them in order ({@code trainkv load},
     * {@link ExportStream#importInto}) reproduces this database at the last {@code v}. Start
     * with {@code sinceVersion} 0 for everything. Writes go on meanwhile; the export reads a
     * snapshot at {@code v}. The stream's format is in docs/format.md ("Export stream").
     *
     * <p>A delete is exported from its tombstone, and so is an entry already expired when the
     * export reads it (its value may be gone: value-log GC keeps no expired value). Compaction discards a tombstone or expired entry at the bottom level once no
     * snapshot needs it, and records the highest version it discarded in the manifest (the
     * dropped-deletion watermark, {@link IncompleteExportException#droppedDeletionVersion()}; it
     * only grows and survives reopen, checkpoints and backups). An incremental export
     * ({@code sinceVersion} > 0) below that watermark could miss a delete, so it is refused with
     * {@link IncompleteExportException} and writes nothing to {@code out}; with {@code sinceVersion}
     * at or above it, the export is exact. A full export ({@code sinceVersion} 0) is always exact:
     * it holds every live key (and the deletes whose tombstones remain), and reproduces this
     * database when loaded into an empty one.
     *
     * @param out receives the stream; flushed, not closed
     * @param sinceVersion the version the previous export returned, or 0
     * @return the version to pass as {@code sinceVersion} next time
     * @throws IllegalArgumentException if {@code sinceVersion} is negative or above the visible version
     * @throws IncompleteExportException if {@code 0 < sinceVersion <} the dropped-deletion watermark
     * @throws StorageException if writing to {@code out} or reading the database fails
     */
    public long export(java.io.OutputStream out, long sinceVersion) {
        checkOpen();
        long until = snapshots.acquireLatest();
        List<MemTable> memtables = pipeline.memtables();
        Version version = versions.acquireCurrent();
        try (MergingIterator all = new MergingIterator(sources(memtables, version, false), false)) {
            if (sinceVersion < 0 || sinceVersion > until) {
                throw new IllegalArgumentException("sinceVersion " + sinceVersion + " is not in [0, " + until
                        + "], the versions written so far");
            }
            Exporter.requireExact(sinceVersion, versions.droppedDeletionVersion());
            Exporter.write(all, sinceVersion, until, this::resolve, options.clock().millis(), out);
            return until;
        } catch (IOException e) {
            throw new StorageException("export failed: " + e, e);
        } finally {
            version.unref();
            snapshots.release(until);
            valueLogGc.deleteRetired();
        }
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

    /** Sublevels of level 0 now ({@link io.trainkv.manifest.Version#level0Sublevels()}); for tests. */
    int level0Sublevels() {
        return versions.level0SublevelCount();
    }

    /** The write pipeline, for tests in this package. */
    WritePipeline pipeline() {
        return pipeline;
    }

    /** What starts value-log GC on discard statistics (null when automatic GC is off), for tests in this package. */
    ValueLogGcTrigger valueLogGcTrigger() {
        return gcTrigger;
    }

    /** The value log, for tests in this package. */
    ValueLog valueLog() {
        return valueLog;
    }

    /**
     * Waits for in-flight writes, syncs and closes the WAL, releases the directory lock and, for
     * {@link Options#inTempDirectory()}, deletes the directory. Idempotent. Read-only, it writes
     * nothing.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (gcScheduler != null) {
            gcTrigger.stop();
            gcScheduler.shutdown();
            try {
                if (!gcScheduler.awaitTermination(10, TimeUnit.MINUTES)) {
                    LOG.log(System.Logger.Level.WARNING, "value-log GC did not stop within 10 minutes");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (DbIterator iterator : List.copyOf(openIterators)) {
            iterator.close();
        }
        Throwable failure = null;
        failure = closeStep(failure, pipeline::close);
        failure = closeStep(failure, flusher::close);
        failure = closeStep(failure, compactor::close);
        failure = closeStep(failure, valueLog::close);
        failure = closeStep(failure, versions::close);
        failure = closeStep(failure, directoryLock::close);
        if (temporaryDirectory != null) {
            deleteRecursively(temporaryDirectory);
        }
        if (failure instanceof Error error) {
            throw error;
        }
        if (failure != null) {
            throw new StorageException("error while closing database in " + storage.describe() + ": " + failure, failure);
        }
    }

    /** One step of {@link #close()}: it runs whatever earlier steps threw, so the lock is always released. */
    private interface CloseStep {
        void run() throws IOException;
    }

    /** Runs {@code step}; returns the first failure of the close so far ({@code first}, else what the step threw). */
    private static Throwable closeStep(Throwable first, CloseStep step) {
        try {
            step.run();
        } catch (IOException | RuntimeException | Error e) {
            if (first == null) {
                return e;
            }
            first.addSuppressed(e);
        }
        return first;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("database is closed");
        }
    }

    private void checkWritable() {
        checkOpen();
        if (options.readOnly()) {
            throw new ReadOnlyException("database in " + storage.describe() + " is opened read-only");
        }
    }

    private static String requireKey(String key) {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        return key;
    }

    private static void closeQuietly(Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot close " + closeable, e);
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
