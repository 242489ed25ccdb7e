package io.trainkv.manifest;

import io.trainkv.CorruptionException;
import io.trainkv.cache.BlockCache;
import io.trainkv.sstable.BlockChecks;
import io.trainkv.sstable.TableCache;
import io.trainkv.sstable.TableReader;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.util.Bytes;
import io.trainkv.util.KeyFormat;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The live set of tables and the counters that must survive restarts (next file number, last
 * version, the WAL number below which everything is flushed), kept in memory as the current
 * {@link Version} and on disk in the manifest. {@link #logAndApply} is the only way to change
 * them: the edit is fsynced to the manifest before the new version is installed.
 *
 * <p>Open reopens the manifest's state and every table it names, and starts a fresh manifest
 * holding one snapshot edit. A manifest grown past the rewrite threshold is replaced the same way.
 * Opened read-only, it writes and deletes nothing, and {@link #logAndApply} is refused, until
 * {@link #startWriting()} (recovery opens it so, and starts writing once what it replayed is durable).
 * Nothing in memory changes unless the manifest write succeeded; after a failed one every further
 * edit is refused, because the manifest's tail is unknown (the database must be reopened).
 */
public final class VersionSet implements Closeable {

    private static final System.Logger LOG = System.getLogger(VersionSet.class.getName());

    private static final Comparator<TableHandle> BY_SMALLEST_KEY =
            (a, b) -> KeyFormat.compare(a.meta().smallestKey(), b.meta().smallestKey());
    private static final Comparator<TableHandle> BY_FILE_NUMBER =
            Comparator.comparingLong(t -> t.meta().fileNumber());

    private final Storage storage;
    private final int maxLevels;
    private final boolean mmap;
    private final long manifestRewriteBytes;
    private final long obsoleteBytesBeforeRewrite;
    private final BlockCache blockCache;
    private final BlockCache indexCache;
    private final TableCache tableCache;
    private final BlockChecks blockChecks;
    private final List<String> deleteAfterSnapshot = new ArrayList<>();
    /** Obsolete files a manifest snapshot would have deleted while a {@link #holdObsoleteFiles() hold} was taken. */
    private final List<String> heldDeletions = new ArrayList<>();
    private int deletionHolds;
    private long obsoleteBytes;

    private volatile Version current;
    /** The live manifest; null when opened read-only. */
    private ManifestLog manifest;
    /** The manifest recovered at open, replaced by the first one {@link #startWriting()} writes; or null. */
    private String recoveredManifest;
    private long nextFileNumber;
    private long lastVersion;
    private long logNumber;
    /** The dropped-deletion watermark ({@link ManifestState#droppedDeletionVersion()}); only grows. */
    private long droppedDeletionVersion;
    private final Map<Long, Long> valueLogDiscard = new HashMap<>();
    private final Set<Long> valueLogsCollected = new HashSet<>();
    private volatile boolean closing;
    /** Set when a manifest write failed: its tail is unknown, so nothing more may be appended. */
    private Throwable manifestFailure;

    private VersionSet(Storage storage, int maxLevels, boolean mmap, long manifestRewriteBytes,
                       long obsoleteBytesBeforeRewrite, BlockCache blockCache, BlockCache indexCache,
                       TableCache tableCache, BlockChecks blockChecks) {
        this.storage = storage;
        this.maxLevels = maxLevels;
        this.mmap = mmap;
        this.manifestRewriteBytes = manifestRewriteBytes;
        this.obsoleteBytesBeforeRewrite = obsoleteBytesBeforeRewrite;
        this.blockCache = blockCache;
        this.indexCache = indexCache;
        this.tableCache = tableCache;
        this.blockChecks = blockChecks;
    }

    /**
     * Recovers the version set of a directory (or starts an empty one) and, unless
     * {@code readOnly}, makes it writable ({@link #startWriting()}).
     *
     * <p>A directory without {@code CURRENT} is a new database only if it holds none of a
     * database's files: no table, WAL or value log, and no manifest that names a table. A manifest
     * naming none, or one cut short, is what a first open leaves when a crash stops it before
     * {@code CURRENT} is written (it creates WALs and value logs only after); it holds nothing.
     *
     * @param minNextFileNumber one more than the highest file number present in the directory
     * @param obsoleteBytesBeforeRewrite obsolete file bytes waiting for deletion that trigger a
     *        manifest rewrite (see {@link #deleteAfterNextSnapshot})
     * @param blockCache the data-block cache tables read through, or null
     * @param indexCache the cache of table index and filter blocks, or null to keep them resident
     * @param tableCache bounds the table files open at once, or null to keep every table's file open
     * @param readOnly recover in memory only: nothing is written or deleted, and no edit is
     *        accepted until {@link #startWriting()}
     * @throws CorruptionException if the manifest is damaged, or names a table that is missing,
     *         of the wrong size, or unreadable; or, naming {@code CURRENT}, if there is no
     *         {@code CURRENT} but the directory holds a database's files
     */
    public static VersionSet open(Storage storage, int maxLevels, boolean mmap, long manifestRewriteBytes,
                                  long minNextFileNumber, long obsoleteBytesBeforeRewrite, BlockCache blockCache,
                                  BlockCache indexCache, TableCache tableCache, boolean readOnly) throws IOException {
        return open(storage, maxLevels, mmap, manifestRewriteBytes, minNextFileNumber, obsoleteBytesBeforeRewrite,
                blockCache, indexCache, tableCache, BlockChecks.EVERY_READ, readOnly);
    }

    /**
     * Recovers the version set as {@link #open(Storage, int, boolean, long, long, long, BlockCache,
     * BlockCache, TableCache, boolean)} does, its tables checking their data blocks as
     * {@code blockChecks} says.
     */
    public static VersionSet open(Storage storage, int maxLevels, boolean mmap, long manifestRewriteBytes,
                                  long minNextFileNumber, long obsoleteBytesBeforeRewrite, BlockCache blockCache,
                                  BlockCache indexCache, TableCache tableCache, BlockChecks blockChecks,
                                  boolean readOnly) throws IOException {
        VersionSet set = new VersionSet(storage, maxLevels, mmap, manifestRewriteBytes, obsoleteBytesBeforeRewrite,
                blockCache, indexCache, tableCache, blockChecks);
        ManifestLog.Replayed replayed = ManifestLog.replay(storage, maxLevels);
        if (replayed == null) {
            requireNoDatabase(storage, maxLevels);
        }
        ManifestState state = ManifestState.of(replayed == null ? List.of() : replayed.edits());
        set.recoveredManifest = replayed == null ? null : replayed.manifestName();
        set.lastVersion = state.lastVersion();
        set.logNumber = state.logNumber();
        set.droppedDeletionVersion = state.droppedDeletionVersion();
        set.valueLogDiscard.putAll(state.valueLogDiscard());
        set.valueLogsCollected.addAll(state.valueLogsCollected());
        set.nextFileNumber = Math.max(state.nextFileNumber(), minNextFileNumber);
        List<List<TableHandle>> levels = emptyLevels(maxLevels);
        try {
            for (VersionEdit.Added a : state.liveTables().values()) {
                levels.get(a.level()).add(set.openTable(a.table()));
            }
        } catch (IOException | RuntimeException | Error e) {
            for (List<TableHandle> level : levels) {
                for (TableHandle t : level) {
                    closeQuietly(t.reader());
                }
            }
            throw e;
        }
        sortLevels(levels);
        set.current = new Version(levels);
        if (!readOnly) {
            set.startWriting();
        }
        return set;
    }

    /**
     * Refuses a directory without {@code CURRENT} that holds a database's files (see
     * {@link #open}): opening it as a new database would delete them as orphans.
     *
     * @throws CorruptionException naming {@code CURRENT}
     */
    private static void requireNoDatabase(Storage storage, int maxLevels) throws IOException {
        List<String> found = new ArrayList<>();
        for (String name : storage.list()) {
            boolean databaseFile = FileNames.parseNumber(name, FileNames.Kind.TABLE) >= 0
                    || FileNames.parseNumber(name, FileNames.Kind.WAL) >= 0
                    || FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG) >= 0;
            if (!databaseFile && FileNames.parseManifest(name) >= 0) {
                try {
                    databaseFile = !ManifestState.of(ManifestLog.replay(storage, name, maxLevels).edits())
                            .liveTables().isEmpty();
                } catch (CorruptionException cutShort) {
                    databaseFile = false; // alone, a first open's manifest torn by a crash; else the rest refuses
                }
            }
            if (databaseFile) {
                found.add(name);
            }
        }
        if (!found.isEmpty()) {
            found.sort(null);
            throw new CorruptionException(FileNames.CURRENT, 0, storage.describe() + " is not a TrainKV database (no "
                    + FileNames.CURRENT + " file), yet holds " + found.size() + " of a database's files ("
                    + String.join(", ", found.subList(0, Math.min(found.size(), 5)))
                    + (found.size() > 5 ? ", ..." : "") + "); opening it as a new database would delete them, so "
                    + "nothing was changed. If its " + FileNames.CURRENT + " was lost, restore it (the name of the "
                    + "live manifest and a newline)");
        }
    }

    /**
     * Makes a version set opened read-only writable: deletes the value-log files GC collected
     * and writes a fresh manifest holding one snapshot edit, which {@code CURRENT} then names.
     * Recovery calls it once everything it read back is durable.
     *
     * @throws IllegalStateException if the version set is already writable
     */
    public synchronized void startWriting() throws IOException {
        if (manifest != null) {
            throw new IllegalStateException("the version set is already writable");
        }
        for (long collected : valueLogsCollected) {
            storage.delete(FileNames.name(collected, FileNames.Kind.VALUE_LOG));
        }
        long manifestNumber = nextFileNumber++;
        manifest = ManifestLog.create(storage, manifestNumber, snapshot(current, lastVersion, logNumber),
                recoveredManifest);
    }

    private TableHandle openTable(TableMeta meta) throws IOException {
        String name = FileNames.name(meta.fileNumber(), FileNames.Kind.TABLE);
        if (!storage.exists(name)) {
            throw new CorruptionException(name, 0, "table " + name + " named in the manifest is missing");
        }
        long size = storage.size(name);
        if (size != meta.fileSize()) {
            throw new CorruptionException(name, Math.min(size, meta.fileSize()), "table " + name + " is " + size
                    + " bytes but the manifest recorded " + meta.fileSize());
        }
        ReadableFile file = storage.openRead(name);
        TableReader reader = TableReader.open(file, name, meta.fileNumber(), mmap, blockCache, indexCache, tableCache,
                blockChecks);
        return new TableHandle(meta, reader, this);
    }

    /** The current version with a reference taken; the caller must {@link Version#unref()} it. */
    public Version acquireCurrent() {
        while (true) {
            Version v = current;
            if (v.tryRef()) {
                return v;
            }
            if (closing) {
                throw new IllegalStateException("database is closed");
            }
        }
    }

    /** Sublevels of level 0 in the current version ({@link Version#level0Sublevels()}); a cheap read for write throttling. */
    public int level0SublevelCount() {
        return current.level0Sublevels().size();
    }

    /** Reserves a new file number (for a WAL, table or manifest). */
    public synchronized long newFileNumber() {
        return nextFileNumber++;
    }

    /** The WAL number below which every WAL is flushed into tables. */
    public synchronized long logNumber() {
        return logNumber;
    }

    /** The last version recorded in the manifest. */
    public synchronized long lastVersion() {
        return lastVersion;
    }

    /**
     * The highest version of a tombstone or expired entry that compaction has discarded without
     * writing it out (0: none). Raised before the version without it is installed, so a reader
     * that pins a version and then reads this sees every deletion missing from that version.
     */
    public synchronized long droppedDeletionVersion() {
        return droppedDeletionVersion;
    }

    /** The file numbers of every table in the current version. */
    public Set<Long> liveTableNumbers() {
        Set<Long> live = new HashSet<>();
        Version v = current;
        for (int level = 0; level < v.levelCount(); level++) {
            for (TableHandle t : v.tables(level)) {
                live.add(t.meta().fileNumber());
            }
        }
        return live;
    }

    /** The live manifest's file name. */
    public synchronized String manifestName() {
        return manifest.name();
    }

    /**
     * Records {@code edit} durably in the manifest and installs the version it produces. The
     * tables it adds must be complete and fsynced; they are opened here.
     */
    public synchronized void logAndApply(VersionEdit edit) throws IOException {
        if (manifest == null) {
            throw new IllegalStateException("the version set was opened read-only");
        }
        if (manifestFailure != null) {
            throw new IOException("the manifest refuses edits after an earlier write failure: " + manifestFailure,
                    manifestFailure);
        }
        long newLastVersion = Math.max(lastVersion, edit.lastVersion());
        long newLogNumber = Math.max(logNumber, edit.logNumber());
        edit.nextFileNumber(nextFileNumber).lastVersion(newLastVersion).logNumber(newLogNumber);
        Version base = current;
        List<List<TableHandle>> levels = emptyLevels(maxLevels);
        Map<Long, Integer> deleted = new HashMap<>();
        for (VersionEdit.Deleted d : edit.deleted()) {
            deleted.put(d.fileNumber(), d.level());
        }
        Map<Long, TableHandle> removed = new HashMap<>();
        for (int level = 0; level < maxLevels; level++) {
            for (TableHandle t : base.tables(level)) {
                Integer deletedAt = deleted.remove(t.meta().fileNumber());
                if (deletedAt == null) {
                    levels.get(level).add(t);
                } else if (deletedAt == level) {
                    removed.put(t.meta().fileNumber(), t);
                } else {
                    throw new IllegalStateException("edit deletes table " + t.meta().fileNumber() + " from level "
                            + deletedAt + " but it is at level " + level);
                }
            }
        }
        if (!deleted.isEmpty()) {
            throw new IllegalStateException("edit deletes tables that are not live: " + deleted.keySet());
        }
        List<TableHandle> opened = new ArrayList<>();
        try {
            for (VersionEdit.Added a : edit.added()) {
                TableHandle moved = removed.get(a.table().fileNumber());
                if (moved != null) {
                    levels.get(a.level()).add(moved);
                    continue;
                }
                TableHandle t = openTable(a.table());
                opened.add(t);
                levels.get(a.level()).add(t);
            }
            sortLevels(levels);
            checkLevelsDoNotOverlap(levels);
            Version next = new Version(levels);
            applyValueLogChanges(edit);
            droppedDeletionVersion = Math.max(droppedDeletionVersion, edit.droppedDeletionVersion());
            try {
                writeToManifest(edit, next, newLastVersion, newLogNumber);
            } catch (IOException | RuntimeException | Error e) {
                manifestFailure = e;
                next.abandon();
                throw e;
            }
            lastVersion = newLastVersion;
            logNumber = newLogNumber;
            current = next;
            base.unref();
        } catch (IOException | RuntimeException | Error e) {
            for (TableHandle t : opened) {
                closeQuietly(t.reader());
            }
            throw e;
        }
    }

    /**
     * Appends the edit, or, past the rewrite threshold, starts a new manifest holding a snapshot
     * of the state after it.
     */
    private void writeToManifest(VersionEdit edit, Version next, long newLastVersion, long newLogNumber)
            throws IOException {
        if (manifest.size() < manifestRewriteBytes && obsoleteBytes < obsoleteBytesBeforeRewrite) {
            manifest.append(edit);
            return;
        }
        rewriteManifest(next, newLastVersion, newLogNumber);
    }

    /** Starts a new manifest holding a snapshot of {@code state}, then deletes the files waiting for one. */
    private void rewriteManifest(Version state, long lastVersionInSnapshot, long logNumberInSnapshot)
            throws IOException {
        long number = nextFileNumber++;
        ManifestLog replacement = ManifestLog.create(storage, number,
                snapshot(state, lastVersionInSnapshot, logNumberInSnapshot), manifest.name());
        manifest.close();
        manifest = replacement;
        if (deletionHolds > 0) {
            heldDeletions.addAll(deleteAfterSnapshot); // deleted at the first snapshot after the last hold ends
            deleteAfterSnapshot.clear();
            obsoleteBytes = 0;
            return;
        }
        for (String name : deleteAfterSnapshot) {
            try {
                storage.delete(name);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot delete obsolete " + name + "; it is removed at the next open", e);
            }
        }
        deleteAfterSnapshot.clear();
        obsoleteBytes = 0;
    }

    /**
     * Deletes an obsolete file (a flushed WAL, a compacted table, a collected value log) once the
     * next manifest snapshot is durable, not at once. Until then the edits that made it obsolete
     * are the manifest's newest records, and if damage to them ever makes recovery fall back to
     * an older edit, every file that older state needs is still there. A rewrite is forced when
     * {@code obsoleteBytesBeforeRewrite} bytes wait; files still waiting at close are removed at
     * the next open, after the whole manifest has been read.
     */
    public synchronized void deleteAfterNextSnapshot(String name, long bytes) {
        if (closing) {
            return;
        }
        deleteAfterSnapshot.add(name);
        obsoleteBytes += bytes;
    }

    /**
     * Keeps every obsolete file (flushed WAL, compacted table, collected value-log file) on disk
     * until the returned hold is closed: a checkpoint or backup links and copies files by name
     * while background work goes on. Nothing else changes; the files are deleted after the first
     * manifest snapshot once the last hold is closed (or at the next open). Closing twice is harmless.
     */
    public synchronized Closeable holdObsoleteFiles() {
        deletionHolds++;
        boolean[] released = new boolean[1];
        return () -> {
            synchronized (VersionSet.this) {
                if (released[0]) {
                    return;
                }
                released[0] = true;
                if (--deletionHolds == 0 && !heldDeletions.isEmpty()) {
                    deleteAfterSnapshot.addAll(heldDeletions);
                    heldDeletions.clear();
                }
            }
        };
    }

    /**
     * The current version with a reference taken (the caller must {@link Version#unref()} it) and
     * a manifest snapshot edit of it: its tables with their levels, the counters and the value-log
     * statistics, read together under the version set's lock.
     */
    public record Pinned(Version version, VersionEdit snapshot) {
    }

    /** Pins the current version and its snapshot edit together ({@link Pinned}). */
    public synchronized Pinned pinCurrent() {
        Version version = acquireCurrent();
        return new Pinned(version, snapshot(version, lastVersion, logNumber));
    }

    private void applyValueLogChanges(VersionEdit edit) {
        ManifestState.applyValueLogChanges(edit, valueLogDiscard, valueLogsCollected);
    }

    /** Discarded bytes per value-log file, as compaction has counted them. */
    public synchronized Map<Long, Long> valueLogDiscard() {
        return Map.copyOf(valueLogDiscard);
    }

    /**
     * Value-log files GC has collected. Their files are deleted (at the latest at the next open),
     * but older entries in WALs and tables may still point into them, shadowed by the rewrites;
     * the ids are kept so that such pointers are recognised as superseded, not as damage.
     */
    public synchronized Set<Long> valueLogsCollected() {
        return Set.copyOf(valueLogsCollected);
    }

    private VersionEdit snapshot(Version version, long lastVersion, long logNumber) {
        VersionEdit edit = new VersionEdit().nextFileNumber(nextFileNumber).lastVersion(lastVersion).logNumber(logNumber)
                .droppedDeletion(droppedDeletionVersion);
        for (Map.Entry<Long, Long> e : valueLogDiscard.entrySet()) {
            edit.addValueLogDiscard(e.getKey(), e.getValue());
        }
        for (long fileId : valueLogsCollected) {
            edit.valueLogCollected(fileId);
        }
        for (int level = 0; level < version.levelCount(); level++) {
            for (TableHandle t : version.tables(level)) {
                edit.addTable(level, t.meta());
            }
        }
        return edit;
    }

    private static List<List<TableHandle>> emptyLevels(int maxLevels) {
        List<List<TableHandle>> levels = new ArrayList<>(maxLevels);
        for (int i = 0; i < maxLevels; i++) {
            levels.add(new ArrayList<>());
        }
        return levels;
    }

    private static void sortLevels(List<List<TableHandle>> levels) {
        levels.get(0).sort(BY_FILE_NUMBER);
        for (int level = 1; level < levels.size(); level++) {
            levels.get(level).sort(BY_SMALLEST_KEY);
        }
    }

    private static void checkLevelsDoNotOverlap(List<List<TableHandle>> levels) {
        for (int level = 1; level < levels.size(); level++) {
            List<TableHandle> tables = levels.get(level);
            for (int i = 1; i < tables.size(); i++) {
                TableMeta before = tables.get(i - 1).meta();
                TableMeta after = tables.get(i).meta();
                if (Bytes.compare(before.largestUserKey(), after.smallestUserKey()) >= 0) {
                    throw new IllegalStateException("level " + level + " would overlap: " + before + " and " + after);
                }
            }
        }
    }

    /** Called when no version holds {@code table} any more: unmaps it now, deletes it after the next snapshot. */
    void release(TableHandle table) {
        closeQuietly(table.reader());
        deleteAfterNextSnapshot(FileNames.name(table.meta().fileNumber(), FileNames.Kind.TABLE), table.meta().fileSize());
    }

    private static void closeQuietly(TableReader reader) {
        try {
            reader.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot close table " + reader.fileName(), e);
        }
    }

    /**
     * Writes a final manifest snapshot if obsolete files are waiting (and deletes them), releases
     * the current version (tables close once no iterator holds them) and closes the manifest.
     */
    @Override
    public synchronized void close() throws IOException {
        try {
            if (manifest != null && manifestFailure == null && !deleteAfterSnapshot.isEmpty()) {
                rewriteManifest(current, lastVersion, logNumber);
            }
        } finally {
            closing = true;
            current.unref();
            if (manifest != null) {
                manifest.close();
            }
        }
    }
}
