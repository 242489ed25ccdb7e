package io.trainkv;

import io.trainkv.cache.BlockCache;
import io.trainkv.manifest.VersionSet;
import io.trainkv.memtable.MemTable;
import io.trainkv.sstable.BlockChecks;
import io.trainkv.sstable.TableCache;
import io.trainkv.storage.FileCopy;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.Storage;
import io.trainkv.vlog.ValueLog;
import io.trainkv.vlog.ValueLogStage;
import io.trainkv.vlog.ValuePointerCheck;
import io.trainkv.wal.WalReplay;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What {@link TrainKV#open} recovers from a directory, in two phases, so that an open that fails
 * changes nothing and a crash during or after recovery is survived like the first one.
 *
 * <p>First it only reads: the manifest and every table it names, then every WAL not yet flushed,
 * checking each value pointer against the value log ({@link WalReplay}, {@link ValuePointerCheck}).
 * Damage that is not a torn tail throws here, before any file is touched.
 *
 * <p>Then, unless read-only, it makes what it read back durable before anything can depend on
 * it: a killed process leaves its unsynced writes in the page cache only, where a power cut
 * during or after recovery would drop or tear them. It fsyncs the value-log files the replayed
 * batches point into and the newest one, then cuts the torn tail of the newest WAL and fsyncs every
 * replayed WAL (values before the pointers to them, as the write path syncs them), and only then
 * writes a fresh manifest, starts a new value-log file and deletes what the manifest proves
 * obsolete. The new WAL and the flush of the replayed memtables come after that, so a replayed WAL
 * that is no longer the newest can never tear.
 */
final class Recovery {

    private static final System.Logger LOG = System.getLogger(Recovery.class.getName());

    /**
     * The version set and value log, writable unless the open is read-only; the replayed
     * memtables, oldest first; and the highest version recovered.
     */
    record Recovered(VersionSet versions, ValueLog valueLog, List<MemTable> memtables, long lastVersion) {
    }

    private Recovery() {
    }

    /**
     * Recovers the database in {@code storage}, creating an empty one if the directory holds no
     * database files.
     *
     * @throws CorruptionException naming file and offset, if damage is not a torn tail, or (naming
     *         {@code CURRENT}) if the directory holds a database's files but no {@code CURRENT}
     */
    static Recovered run(Storage storage, Options options, BlockCache blockCache, BlockCache indexCache)
            throws IOException {
        boolean readOnly = options.readOnly();
        List<String> names = storage.list();
        long maxFileNumber = 0;
        for (String name : names) {
            maxFileNumber = Math.max(maxFileNumber, FileNames.parseManifest(name));
            for (FileNames.Kind kind : FileNames.Kind.values()) {
                maxFileNumber = Math.max(maxFileNumber, FileNames.parseNumber(name, kind));
            }
        }
        VersionSet versions = VersionSet.open(storage, options.maxLevels(), options.mmap(),
                options.manifestRewriteSize(), maxFileNumber + 1, Math.max(16L << 20, options.memtableSize()),
                blockCache, indexCache,
                options.maxOpenFiles() == Options.UNLIMITED_OPEN_FILES ? null : new TableCache(storage, options.maxOpenFiles()),
                BlockChecks.recheckingAfter(options.blockRecheckInterval()), true);
        ValueLog valueLog = null;
        ValueLogStage stage = null;
        try {
            List<Long> walNumbers = FileNames.numbers(names, FileNames.Kind.WAL, versions.logNumber());
            List<Long> valueLogIds = FileNames.numbers(names, FileNames.Kind.VALUE_LOG, 0);
            Set<Long> collected = versions.valueLogsCollected();
            stage = ValueLogStage.open(storage, false); // read-only: the checks read what a killed process staged
            String refused = stage == null ? ValueLogStage.refusal(storage) : null; // a stage opened was vouched for
            if (refused != null) {
                LOG.log(System.Logger.Level.WARNING, refused);
            }
            WalReplay.Result replayed;
            Set<Long> valueLogsToSync = new TreeSet<>();
            try (ValuePointerCheck pointers = new ValuePointerCheck(storage, valueLogIds, collected, stage)) {
                replayed = WalReplay.replay(storage, walNumbers, pointers, versions.liveTableNumbers());
                valueLogsToSync.addAll(pointers.filesRead());
            }
            report(replayed, readOnly);
            if (!readOnly) {
                ValueLogStage writable = ValueLogStage.open(storage, true); // null where the storage cannot map
                // where it cannot, the read-only copy the checks read from applies the entries they took
                ValueLogStage applying = writable != null ? writable : stage;
                if (applying != null) {
                    long applied = applying.applyPending(storage);
                    if (applied > 0) {
                        LOG.log(System.Logger.Level.INFO, () -> "appended " + applied + " bytes of value-log entries "
                                + "from " + FileNames.VALUE_LOG_STAGE + " to the value log they belong to");
                    }
                }
                if (stage != null) {
                    stage.close();
                }
                stage = writable;
                // Besides the files replayed batches point into, the newest value-log file: the only
                // one a crashed session can have left unsynced bytes in, as each is fsynced in full
                // before a newer one is created (here too).
                valueLogIds.stream().filter(id -> !collected.contains(id)).max(Long::compare)
                        .ifPresent(valueLogsToSync::add);
                for (long id : valueLogsToSync) {
                    FileCopy.sync(storage, FileNames.name(id, FileNames.Kind.VALUE_LOG));
                }
                replayed.makeDurable(storage);
                versions.startWriting();
            }
            valueLog = ValueLog.open(storage, valueLogIds, collected, options.valueLogFileSize(), options.mmap(),
                    versions::newFileNumber, versions::deleteAfterNextSnapshot, readOnly, stage);
            stage = null; // the value log owns it
            if (!readOnly) {
                deleteOrphans(storage, names, versions);
            }
            return new Recovered(versions, valueLog, replayed.memtables(),
                    Math.max(versions.lastVersion(), replayed.maxVersion()));
        } catch (IOException | RuntimeException | Error e) { // an Error too: no table or value log stays open
            if (valueLog != null) {
                closeQuietly(valueLog);
            }
            if (stage != null) {
                stage.close();
            }
            closeQuietly(versions);
            throw e;
        }
    }

    /**
     * Fails the open on what the replay found that is not a torn tail; logs, at WARN, damaged
     * values a later write replaced and the torn tail the open drops (at INFO if the tail is
     * preallocated zeros, which drop nothing).
     *
     * @throws CorruptionException naming the file and offset of the first such damage
     */
    private static void report(WalReplay.Result replayed, boolean readOnly) {
        CorruptionException failure = replayed.openFailure();
        if (failure != null) {
            throw failure;
        }
        for (WalReplay.DamagedValue d : replayed.damagedValues()) {
            LOG.log(System.Logger.Level.WARNING, () -> d.damage().getMessage() + "; a later write of the key (version "
                    + d.supersededBy() + ") replaced the value, so nothing is lost, but the value-log file holds damage");
        }
        WalReplay.TornTail torn = replayed.tornTail();
        if (torn != null && torn.zeros()) {
            LOG.log(System.Logger.Level.INFO, () -> "write-ahead log " + torn.wal() + " ends in " + torn.bytes()
                    + " bytes of zeros after its last record at offset " + torn.offset() + " (space preallocated ahead"
                    + " of the appends: the database was not closed); " + (readOnly ? "ignoring" : "cutting off")
                    + " the zeros, no record is lost");
        } else if (torn != null) {
            LOG.log(System.Logger.Level.WARNING, () -> "write-ahead log " + torn.wal() + " ends in a torn tail at "
                    + "offset " + torn.offset() + " (" + torn.reason() + "); " + (readOnly ? "ignoring" : "dropping")
                    + " the " + torn.bytes() + " bytes from there on: " + torn.dropped());
        }
    }


    /**
     * Deletes files a crash or an interrupted background job left behind: tables the manifest does
     * not name, WALs already flushed, manifests other than the live one, a stale {@code CURRENT.tmp}.
     * Called only once the whole manifest has been read and a fresh one written.
     */
    private static void deleteOrphans(Storage storage, List<String> names, VersionSet versions) throws IOException {
        Set<Long> liveTables = versions.liveTableNumbers();
        List<String> deleted = new ArrayList<>();
        for (String name : names) {
            long table = FileNames.parseNumber(name, FileNames.Kind.TABLE);
            long wal = FileNames.parseNumber(name, FileNames.Kind.WAL);
            boolean orphan = (table >= 0 && !liveTables.contains(table))
                    || (wal >= 0 && wal < versions.logNumber())
                    || (FileNames.parseManifest(name) >= 0 && !name.equals(versions.manifestName()))
                    || name.equals(FileNames.CURRENT_TEMP);
            if (orphan && storage.exists(name)) {
                storage.delete(name);
                deleted.add(name);
            }
        }
        if (!deleted.isEmpty()) {
            storage.syncDirectory();
            LOG.log(System.Logger.Level.INFO, () -> "deleted " + deleted.size() + " files of " + storage.describe()
                    + " that the manifest no longer needs (obsolete, or left by an interrupted job): " + deleted);
        }
    }

    private static void closeQuietly(Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot close " + closeable, e);
        }
    }
}
