package io.trainkv;

import io.trainkv.storage.Storage;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings for {@link TrainKV#open(Options)}. Every tunable has a documented default; setters
 * return {@code this} so that options read as one expression:
 * <pre>{@code
 * TrainKV db = TrainKV.open(Options.at(Path.of("data")).memtableSize(16 << 20).syncWrites(true));
 * }</pre>
 */
public final class Options {

    /** The most levels a database can have (L0 to L7); tools that read any database assume it. */
    public static final int MAX_LEVELS = 8;

    /** Longest key accepted: 64 KiB. */
    public static final int MAX_KEY_SIZE = 64 * 1024;

    /** Longest value accepted: 16 MiB, with any {@link #memtableSize(long)} when it goes to the value log. */
    public static final int MAX_VALUE_SIZE = 16 * 1024 * 1024;

    /** {@link #maxOpenFiles(int)} for no limit, the default: every table's file stays open. */
    public static final int UNLIMITED_OPEN_FILES = -1;

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
    private int maxImmutableMemtables = 4;
    private int blockSize = 4 * 1024;
    private int bloomBitsPerKey = 10;
    private boolean mmap = true;
    private int maxLevels = 8;
    private long manifestRewriteSize = 4L * 1024 * 1024;
    private int levelSizeMultiplier = 10;
    private long baseLevelSize = 256L * 1024 * 1024;
    private long targetFileSize = 8L * 1024 * 1024;
    private int level0CompactionTrigger = 4;
    private int level0SlowdownTrigger = 8;
    private int level0StopTrigger = 12;
    private int compactionThreads = 1;
    private int valueThreshold = 1024;
    private long valueLogFileSize = 64L * 1024 * 1024;
    private Duration gcInterval = Duration.ofMinutes(10);
    private double gcDiscardRatio = 0.5;
    private boolean detectConflicts = true;
    private long blockCacheBytes = 64L * 1024 * 1024;
    private long indexCacheBytes = 0;
    private Duration blockRecheckInterval = Duration.ofSeconds(1);
    private int maxOpenFiles = UNLIMITED_OPEN_FILES;
    private boolean readOnly;

    private Options(Path directory, boolean temporary) {
        this.directory = directory;
        this.temporary = temporary;
    }

    /**
     * Options for a database in {@code directory}, created (owner-only) if it does not exist
     * (unless {@link #readOnly(boolean)}).
     */
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
     * {@value #MAX_MEMTABLE_SIZE}. It also bounds the memtable bytes of one write batch, in which
     * a value of at least {@link #valueThreshold(int)} bytes counts as its 20-byte value-log
     * pointer, not its length.
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

    /**
     * Frozen memtables that may wait for flushing before writers stall until one is flushed.
     * Default 4, so memory for memtables stays below {@code (4 + 1) × memtableSize}.
     */
    public Options maxImmutableMemtables(int count) {
        this.maxImmutableMemtables = checkRange("maxImmutableMemtables", count, 1, 64);
        return this;
    }

    /** Size at which a table's data block is cut. Default 4 KiB. */
    public Options blockSize(int bytes) {
        this.blockSize = checkRange("blockSize", bytes, 256, 1 << 20);
        return this;
    }

    /** Bloom filter bits per key in tables; 10 (the default) gives about 1% false positives. */
    public Options bloomBitsPerKey(int bits) {
        this.bloomBitsPerKey = checkRange("bloomBitsPerKey", bits, 1, 64);
        return this;
    }

    /** Whether tables are read through memory mappings where the file system allows. Default true. */
    public Options mmap(boolean enabled) {
        this.mmap = enabled;
        return this;
    }

    /** Number of levels, L0 included: 2 to 8. Default 8 (L0 to L7). */
    public Options maxLevels(int levels) {
        this.maxLevels = checkRange("maxLevels", levels, 2, MAX_LEVELS);
        return this;
    }

    /** Manifest size past which it is rewritten as a single snapshot. Default 4 MiB. */
    public Options manifestRewriteSize(long bytes) {
        if (bytes < 4096) {
            throw new IllegalArgumentException("manifestRewriteSize must be at least 4096 bytes: " + bytes);
        }
        this.manifestRewriteSize = bytes;
        return this;
    }

    /** Size ratio between adjacent levels. Default 10. */
    public Options levelSizeMultiplier(int multiplier) {
        this.levelSizeMultiplier = checkRange("levelSizeMultiplier", multiplier, 2, 100);
        return this;
    }

    /**
     * Target size of the base level, the level level-0 compacts into. Level targets are dynamic:
     * the largest level sets the bottom target and each level above is {@code multiplier} times
     * smaller, down to this size; levels above the base level stay empty. Default 256 MiB, as
     * RocksDB's {@code max_bytes_for_level_base}: with 64 MiB a 1.2 GiB tree had one level more
     * below level 0, and a 10M-key random load wrote 6.1 times its bytes instead of 5.1.
     */
    public Options baseLevelSize(long bytes) {
        if (bytes < 64 * 1024) {
            throw new IllegalArgumentException("baseLevelSize must be at least 64 KiB: " + bytes);
        }
        this.baseLevelSize = bytes;
        return this;
    }

    /** Size at which a flush or a compaction starts a new output table. Default 8 MiB. */
    public Options targetFileSize(long bytes) {
        if (bytes < 4096) {
            throw new IllegalArgumentException("targetFileSize must be at least 4096 bytes: " + bytes);
        }
        this.targetFileSize = bytes;
        return this;
    }

    /**
     * Level-0 sublevel counts (tables stacked by key overlap, see {@code docs/architecture.md})
     * that start a compaction, slow writers down (1 ms per write group), and stop writers until
     * compaction catches up. Defaults 4, 8, 12; each at least the previous. A flush adds at most
     * one sublevel however many tables of {@link #targetFileSize(long)} it writes; level 0 also
     * compacts once it holds the compaction trigger times {@link #baseLevelSize(long)} bytes.
     */
    public Options level0Triggers(int compaction, int slowdown, int stop) {
        checkRange("level0CompactionTrigger", compaction, 1, 1000);
        checkRange("level0SlowdownTrigger", slowdown, compaction, 1000);
        checkRange("level0StopTrigger", stop, slowdown, 1000);
        this.level0CompactionTrigger = compaction;
        this.level0SlowdownTrigger = slowdown;
        this.level0StopTrigger = stop;
        return this;
    }

    /** Threads running compactions in the background. Default 1. */
    public Options compactionThreads(int threads) {
        this.compactionThreads = checkRange("compactionThreads", threads, 1, 64);
        return this;
    }

    /**
     * Values of at least this many bytes go to the value log, and the LSM tree holds a 20-byte
     * pointer instead (key-value separation). Default 1 KiB; 0 sends every value to the log,
     * {@code Integer.MAX_VALUE} keeps every value in the tree.
     */
    public Options valueThreshold(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("valueThreshold must not be negative: " + bytes);
        }
        this.valueThreshold = bytes;
        return this;
    }

    /**
     * Size at which the active value-log file is sealed and a new one started. Default 64 MiB. GC
     * collects whole sealed files and never the active one, so the size is also the grain of
     * space reclamation: a smaller file is collected sooner after its values are overwritten. Each
     * sealed file holds a descriptor and a mapping while it lives.
     */
    public Options valueLogFileSize(long bytes) {
        if (bytes < 64 * 1024 || bytes > (1L << 31) - 1) {
            throw new IllegalArgumentException("valueLogFileSize must be between 64 KiB and 2 GiB - 1: " + bytes);
        }
        this.valueLogFileSize = bytes;
        return this;
    }

    /**
     * How often value-log GC runs in the background, collecting files whose discard ratio is at
     * least {@link #gcDiscardRatio(double)}. Besides, a flush or compaction that records discards
     * taking a sealed file to that ratio starts a GC run of the files due at once, on the same
     * background thread. Default 10 minutes; {@code Duration.ZERO} turns automatic GC, the
     * interval's and the discards', off ({@link TrainKV#runValueLogGC(double)} still works). A failed run is logged
     * and the next one runs as usual; a file found damaged other than by a torn tail is logged and
     * left in place, and automatic GC skips it until the database is reopened.
     */
    public Options gcInterval(Duration interval) {
        if (interval == null || interval.isNegative()) {
            throw new IllegalArgumentException("gcInterval must be zero or positive: " + interval);
        }
        this.gcInterval = interval;
        return this;
    }

    /**
     * The discard ratio (0 to 1) at which automatic GC collects a value-log file. Default 0.5. A
     * sealed file may hold up to this fraction of garbage before it is collected, so the value
     * log stays within about {@code 1 / (1 - ratio)} times the live values (plus the active file):
     * lower it to trade GC rewrites for space.
     */
    public Options gcDiscardRatio(double ratio) {
        if (!(ratio > 0 && ratio <= 1)) {
            throw new IllegalArgumentException("gcDiscardRatio must be in (0, 1]: " + ratio);
        }
        this.gcDiscardRatio = ratio;
        return this;
    }

    /**
     * Whether a transaction's commit fails with {@link ConflictException} when a key it read (or
     * a range its iterators covered) was committed by another writer after it began. Default
     * true (serializable); false lets the last writer win.
     */
    public Options detectConflicts(boolean detect) {
        this.detectConflicts = detect;
        return this;
    }

    /**
     * Bytes of table data blocks kept in the W-TinyLFU block cache (checked contents, so a hit
     * skips the read and the checksum), for tables read with positional reads: mapped tables
     * (see {@link #mmap(boolean)}) read their blocks in place and bypass it. Default 64 MiB; 0
     * turns the cache off.
     */
    public Options blockCacheBytes(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("blockCacheBytes must not be negative: " + bytes);
        }
        this.blockCacheBytes = bytes;
        return this;
    }

    /**
     * How long a table data block read in place through a memory mapping (see {@link #mmap(boolean)})
     * is trusted after its CRC32C matched: reads within the interval skip the checksum, the first
     * read after it checks the block again. So a mapped page whose bytes change after the check (the
     * kernel re-read it from a failing disk, another process wrote the file) is served unchecked for
     * at most this long after the block's last check, then reported as {@link CorruptionException}
     * with file and offset. Blocks read with positional reads are checked whenever they are read
     * from the file (the block cache holds checked copies), and compaction checks every block it
     * reads. Default 1 second; {@link Duration#ZERO} checks every read.
     *
     * @throws IllegalArgumentException if {@code interval} is negative
     */
    public Options blockRecheckInterval(Duration interval) {
        if (interval.isNegative()) {
            throw new IllegalArgumentException("blockRecheckInterval must be zero or positive: " + interval);
        }
        this.blockRecheckInterval = interval;
        return this;
    }

    /**
     * Bytes of table index and bloom-filter blocks kept in their own W-TinyLFU cache, so that
     * memory stays bounded however many tables there are (each table's index and filter take about
     * 2% of its size with 100-byte values and the default 10 bloom bits per key). Default 0: each
     * open table holds its index and filter in memory for its life, as RocksDB does by default
     * ({@code cache_index_and_filter_blocks = false}), and a point read or seek costs no cache
     * look-up for them (two per table, about a tenth of a random read when they went through the
     * cache; docs/benchmarks.md).
     */
    public Options indexCacheBytes(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("indexCacheBytes must not be negative: " + bytes);
        }
        this.indexCacheBytes = bytes;
        return this;
    }

    /**
     * The most table (SSTable) files held open at once, each a file descriptor and, with
     * {@link #mmap(boolean)}, a memory mapping. Default {@value #UNLIMITED_OPEN_FILES}: no limit,
     * every table stays open for its life (RocksDB's {@code max_open_files = -1}). With a limit
     * (at least 1), a table's file is opened when a read or an iterator needs it and closed, least
     * recently used first, once more than {@code files} are open; a file in use by a read or an
     * open iterator is never closed, so the count exceeds the limit only by files in use. A
     * table's filter, index and properties are read once, at open, whatever the limit. WALs,
     * value-log files and the manifest are not counted: leave them room under the process's
     * descriptor limit ({@code ulimit -n}).
     *
     * @throws IllegalArgumentException if {@code files} is neither {@value #UNLIMITED_OPEN_FILES} nor at least 1
     */
    public Options maxOpenFiles(int files) {
        if (files != UNLIMITED_OPEN_FILES && files < 1) {
            throw new IllegalArgumentException("maxOpenFiles must be " + UNLIMITED_OPEN_FILES
                    + " (unlimited) or at least 1: " + files);
        }
        this.maxOpenFiles = files;
        return this;
    }

    /**
     * Opens an existing database without writing anything to its directory, for offline tools:
     * the directory must hold a database ({@code CURRENT}, {@code LOCK}), which stays locked while
     * open; the WALs are replayed into memory only (no flush, compaction, value-log GC, torn-tail
     * cut or orphan deletion); every write, flush, sync, compaction or GC throws
     * {@link ReadOnlyException}. Default false. Not for {@link #inTempDirectory()}.
     */
    public Options readOnly(boolean readOnly) {
        if (readOnly && temporary) {
            throw new IllegalArgumentException("a temporary database starts empty; it cannot be opened read-only");
        }
        this.readOnly = readOnly;
        return this;
    }

    private static int checkRange(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ": " + value);
        }
        return value;
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

    public int maxImmutableMemtables() {
        return maxImmutableMemtables;
    }

    public int blockSize() {
        return blockSize;
    }

    public int bloomBitsPerKey() {
        return bloomBitsPerKey;
    }

    public boolean mmap() {
        return mmap;
    }

    public int maxLevels() {
        return maxLevels;
    }

    public long manifestRewriteSize() {
        return manifestRewriteSize;
    }

    public int levelSizeMultiplier() {
        return levelSizeMultiplier;
    }

    public long baseLevelSize() {
        return baseLevelSize;
    }

    public long targetFileSize() {
        return targetFileSize;
    }

    public int level0CompactionTrigger() {
        return level0CompactionTrigger;
    }

    public int level0SlowdownTrigger() {
        return level0SlowdownTrigger;
    }

    public int level0StopTrigger() {
        return level0StopTrigger;
    }

    public int compactionThreads() {
        return compactionThreads;
    }

    public int valueThreshold() {
        return valueThreshold;
    }

    public long valueLogFileSize() {
        return valueLogFileSize;
    }

    public Duration gcInterval() {
        return gcInterval;
    }

    public double gcDiscardRatio() {
        return gcDiscardRatio;
    }

    public boolean detectConflicts() {
        return detectConflicts;
    }

    public long blockCacheBytes() {
        return blockCacheBytes;
    }

    public int maxOpenFiles() {
        return maxOpenFiles;
    }

    public long indexCacheBytes() {
        return indexCacheBytes;
    }

    public Duration blockRecheckInterval() {
        return blockRecheckInterval;
    }

    public boolean readOnly() {
        return readOnly;
    }
}
