package io.trainkv;

import io.trainkv.manifest.VersionEdit;
import io.trainkv.manifest.VersionSet;
import io.trainkv.storage.FileNames;
import io.trainkv.txn.SnapshotRegistry;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import io.trainkv.vlog.ValueLog;
import io.trainkv.vlog.VlogEntry;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;

/**
 * Value-log garbage collection. For every sealed file it estimates the discard ratio (the larger
 * of compaction's persisted statistics and a sample of entries checked against the LSM tree);
 * every file at or above the asked ratio, not only the worst, is collected:
 * <ol>
 *   <li>each entry whose key's newest committed value is still this very pointer is rewritten to
 *       the head of the log through the write pipeline, at a new version, and only if the key is
 *       still unchanged when the write is applied, so a concurrent write always wins;</li>
 *   <li>the rewrites are fsynced (value log, then WAL), and the manifest records the file as
 *       collected (an open deletes collected files);</li>
 *   <li>the file is retired: deleted once no iterator older than the rewrite and no read in
 *       flight can reach it.</li>
 * </ol>
 * A crash between any two steps leaves either the old pointers or the new ones readable.
 * Runs are serialized.
 *
 * <p>GC checks its own work before step 2: the scan must have covered the whole file (to the
 * length the storage reports, or to a proven torn tail), and every entry that was live when the
 * scan read it must have been moved or found superseded at the rewrite, with no key left
 * pointing into the file afterwards. A file failing either check is left in place, and the run
 * fails ({@link CorruptionException} for bytes the scan could not vouch for,
 * {@link IllegalStateException} for a live entry left behind) with the file and the counts.
 *
 * <p>A file is first read whole to check every entry. A file whose entries stop at damage is
 * collected only if the damage is a torn tail: no sound entry follows it and no live pointer
 * points at or past it (a crash tears the end of the file that was active, and the engine never
 * appends to a file written before an open, so any sealed file may end so). Otherwise values
 * after the damage may still be live and unreadable: the file is left in place and a
 * {@link CorruptionException} reports it; automatic GC logs it once and skips the file from then on.
 */
final class ValueLogGc {

    private static final System.Logger LOG = System.getLogger(ValueLogGc.class.getName());

    /** Bytes of entries a file's sample checks against the LSM tree. */
    private static final long SAMPLE_BYTES = 4L * 1024 * 1024;
    /** Rewrites are committed in batches of at most this many value bytes (less for small memtables). */
    private static final long REWRITE_BATCH_BYTES = 1024 * 1024;

    private final TrainKV db;
    private final WritePipeline pipeline;
    private final ValueLog valueLog;
    private final VersionSet versions;
    private final SnapshotRegistry snapshots;
    private final Clock clock;
    private final long rewriteBatchBytes;
    private final AtomicLong filesExamined = new AtomicLong();
    /**
     * Files refused this session (damaged other than by a torn tail, or failing GC's checks of its
     * own work): automatic GC skips them.
     */
    private final Set<Long> refusedFiles = ConcurrentHashMap.newKeySet();

    ValueLogGc(TrainKV db, WritePipeline pipeline, ValueLog valueLog, VersionSet versions, SnapshotRegistry snapshots,
               Options options) {
        this.db = db;
        this.clock = options.clock();
        this.rewriteBatchBytes = Math.min(REWRITE_BATCH_BYTES, options.memtableSize() / 4);
        this.pipeline = pipeline;
        this.valueLog = valueLog;
        this.versions = versions;
        this.snapshots = snapshots;
    }

    /**
     * Collects every sealed file at or above {@code discardRatio} (none with {@code sampleOnly}).
     *
     * @throws CorruptionException after collecting the others, if a file due for collection is
     *         damaged other than by a torn tail (it is left in place; further such files are suppressed)
     */
    synchronized ValueLogGcReport run(double discardRatio, boolean sampleOnly) throws IOException {
        return run(fileId -> true, discardRatio, sampleOnly, false);
    }

    /**
     * {@link #run(double, boolean)} for automatic GC: a file damaged other than by a torn tail is
     * logged (once) and skipped, and the other files are collected as usual.
     */
    synchronized ValueLogGcReport runAutomatic(double discardRatio) throws IOException {
        return runAutomatic(discardRatio, fileId -> true);
    }

    /** {@link #runAutomatic(double)} over the sealed files {@code chosen} accepts only. */
    synchronized ValueLogGcReport runAutomatic(double discardRatio, LongPredicate chosen) throws IOException {
        return run(chosen, discardRatio, false, true);
    }

    /**
     * Collects exactly the named sealed files, whatever their discard ratio.
     *
     * @throws IllegalArgumentException naming an id that is not a sealed file (the active file never is)
     * @throws CorruptionException after collecting the others, if a named file is damaged other
     *         than by a torn tail (it is left in place)
     */
    synchronized ValueLogGcReport collect(Set<Long> fileIds) throws IOException {
        List<Long> sealed = valueLog.sealedFileIds();
        for (long fileId : fileIds) {
            if (!sealed.contains(fileId)) {
                throw new IllegalArgumentException("value-log file " + fileId + " is not a sealed file"
                        + " (the active file is never collected); sealed files: " + sealed);
            }
        }
        return run(fileIds::contains, 0, false, false);
    }

    private ValueLogGcReport run(LongPredicate chosen, double discardRatio, boolean sampleOnly, boolean automatic)
            throws IOException {
        deleteRetired();
        Map<Long, Long> discard = versions.valueLogDiscard();
        List<ValueLogGcReport.FileEstimate> estimates = new ArrayList<>();
        int collected = 0;
        long reclaimed = 0;
        long rewritten = 0;
        CorruptionException refused = null;
        for (long fileId : valueLog.sealedFileIds()) {
            long size = valueLog.size(fileId);
            if (size == 0 || !chosen.test(fileId)) {
                continue;
            }
            long discarded = Math.min(size, discard.getOrDefault(fileId, 0L));
            long[] sample = sample(fileId);
            double statsRatio = discarded / (double) size;
            double sampleRatio = sample[0] == 0 ? 0 : 1 - sample[1] / (double) sample[0];
            double ratio = Math.max(statsRatio, sampleRatio);
            boolean collect = !sampleOnly && ratio >= discardRatio && !(automatic && refusedFiles.contains(fileId));
            if (collect) {
                Readability readability = readability(fileId);
                if (readability.refusal() != null) {
                    collect = false;
                    CorruptionException damage = readability.refusal();
                    if (automatic) {
                        LOG.log(System.Logger.Level.ERROR, () -> "automatic value-log GC skips "
                                + damage.fileName() + " until the database is reopened: " + damage.getMessage());
                    } else if (refused == null) {
                        refused = damage;
                    } else {
                        refused.addSuppressed(damage);
                    }
                } else {
                    rewritten += collect(fileId, readability.tornTail());
                    collected++;
                    reclaimed += size;
                }
            }
            estimates.add(new ValueLogGcReport.FileEstimate(fileId, size, discarded, sample[0], sample[1], ratio, collect));
            filesExamined.incrementAndGet();
        }
        deleteRetired();
        if (refused != null) {
            throw refused;
        }
        return new ValueLogGcReport(List.copyOf(estimates), collected, reclaimed, rewritten);
    }

    /** Sealed files estimated by GC runs since open, for progress displays. */
    long filesExamined() {
        return filesExamined.get();
    }

    /** Deletes retired files no reader can reach any more. */
    void deleteRetired() {
        valueLog.deleteRetired(snapshots.oldest());
    }

    /** {sampled bytes, live bytes among them} over the first entries of the file. */
    private long[] sample(long fileId) throws IOException {
        long[] totals = new long[2];
        valueLog.scan(fileId, entry -> {
            totals[0] += entry.length();
            if (isLive(entry) != null) {
                totals[1] += entry.length();
            }
            return totals[0] < SAMPLE_BYTES;
        });
        return totals;
    }

    /** The key's current entry if it still points at {@code entry}, else null. */
    private ValueStruct isLive(VlogEntry entry) {
        ValueStruct current = db.newestEntry(entry.key());
        if (current == null || !current.isValuePointer() || current.isExpiredAt(clock.millis())) {
            return null;
        }
        ValuePointer pointer = current.pointer();
        boolean same = pointer.fileId() == entry.fileId() && pointer.offset() == entry.offset()
                && pointer.length() == entry.length();
        return same ? current : null;
    }

    /**
     * The first pointer into value-log file {@code fileId} at or past {@code fromOffset} that is
     * the newest live (not deleted, not expired) entry of its key at the visible version, or null.
     * Walks the whole tree: asked only of a damaged file.
     */
    private ValuePointer firstLivePointerInto(long fileId, long fromOffset) {
        long now = clock.millis();
        return db.readAllVersions((all, readVersion) -> {
            byte[] lastKey = null;
            for (all.seekToFirst(); all.valid(); all.next()) {
                byte[] buffer = all.keyBuffer();
                int userLength = all.keyLength() - KeyFormat.VERSION_SIZE;
                if (KeyFormat.getVersion(buffer, userLength) > readVersion
                        || (lastKey != null && Arrays.equals(buffer, 0, userLength, lastKey, 0, lastKey.length))) {
                    continue; // not visible yet, or an older version of a key already seen
                }
                lastKey = Arrays.copyOf(buffer, userLength);
                ValueStruct newest = all.value();
                if (newest.isValuePointer() && !newest.isExpiredAt(now)) {
                    ValuePointer pointer = newest.pointer();
                    if (pointer.fileId() == fileId && pointer.offset() >= fromOffset) {
                        return pointer;
                    }
                }
            }
            return null;
        });
    }

    /**
     * What a whole read of a file found: its entries end at its end ({@code tornTail} -1) or at a
     * torn tail, or, with a {@code refusal}, at damage after which live values may be unreadable.
     */
    private record Readability(long tornTail, CorruptionException refusal) {
    }

    /**
     * Reads the whole file to decide whether it may be collected: its entries must end at its end
     * or at a torn tail, damage that no sound entry follows and no live pointer reaches. A refused
     * file joins {@link #refusedFiles}.
     */
    private Readability readability(long fileId) throws IOException {
        CorruptionException damage = valueLog.scan(fileId, entry -> true).damage();
        if (damage == null) {
            return new Readability(-1, null);
        }
        String name = damage.fileName();
        long at = damage.offset();
        long sound = valueLog.nextSoundEntry(fileId, at + 1);
        ValuePointer reaching = sound >= 0 ? null : firstLivePointerInto(fileId, at);
        if (sound < 0 && reaching == null) {
            refusedFiles.remove(fileId);
            if (valueLog.isZeros(fileId, at)) {
                LOG.log(System.Logger.Level.INFO, () -> "value log " + name + " ends in zeros after its last entry at "
                        + "offset " + at + " (space preallocated ahead of the appends while it was active); GC collects"
                        + " the entries before them");
            } else {
                LOG.log(System.Logger.Level.WARNING, () -> "value log " + name + " ends in a torn tail at offset " + at
                        + " that no live value reaches; GC collects the entries before it (" + damage.getMessage() + ")");
            }
            return new Readability(at, null);
        }
        String why = sound >= 0
                ? "a sound entry follows at offset " + sound + ", so live values after the damage may be lost"
                : "a live value at offset " + reaching.offset() + " lies at or past the damage";
        refusedFiles.add(fileId);
        return new Readability(at, new CorruptionException(name, at, "value log " + name + " is damaged at offset "
                + at + " and " + why + "; GC does not collect it (" + damage.getMessage() + ")", damage));
    }

    /**
     * Rewrites the live entries of a file, checks that the scan covered the file and that no live
     * entry was left behind, records the file as collected and retires it; returns bytes
     * rewritten. {@code tornTail} is where {@link #readability(long)} found the entries to end
     * (-1 at the end of the file).
     *
     * @throws CorruptionException if the scan did not cover the file (the file is kept)
     * @throws IllegalStateException if a live entry was not moved (the file is kept)
     */
    private long collect(long fileId, long tornTail) throws IOException {
        Moves moves = new Moves();
        ValueLog.ScanEnd end = valueLog.scan(fileId, entry -> {
            ValueStruct current = isLive(entry);
            if (current != null) {
                moves.add(entry, current);
            }
            return true;
        });
        moves.write();
        String name = FileNames.name(fileId, FileNames.Kind.VALUE_LOG);
        try {
            checkCovered(name, end, tornTail, valueLog.lengthInStorage(fileId));
            moves.checkNoneLeftBehind(name);
        } catch (RuntimeException e) {
            refusedFiles.add(fileId);
            throw e;
        }
        pipeline.sync();
        versions.logAndApply(new VersionEdit().valueLogCollected(fileId));
        valueLog.retire(fileId, pipeline.visibleVersion());
        return moves.bytes;
    }

    /**
     * Checks that a scan read every entry the file can hold: to its end, which must be the length
     * the storage reports ({@code storedBytes}), or to {@code tornTail} (-1 for none), the damage
     * that {@link #readability(long)} proved to be a torn tail in the same bytes.
     *
     * @throws CorruptionException naming the file and the first byte the scan cannot vouch for
     */
    private static void checkCovered(String name, ValueLog.ScanEnd end, long tornTail, long storedBytes) {
        if (end.fileBytes() != storedBytes) {
            throw new CorruptionException(name, Math.min(end.fileBytes(), storedBytes), "value log " + name
                    + " holds " + storedBytes + " bytes in storage but GC read it as " + end.fileBytes()
                    + " bytes; GC does not collect it");
        }
        long stopped = end.damage() == null ? -1 : end.offset();
        boolean covered = tornTail < 0 ? end.reachedEnd() : stopped == tornTail;
        if (!covered) {
            throw new CorruptionException(name, end.offset(), "value log " + name + " read differently twice:"
                    + " its entries ended " + describeEnd(tornTail) + ", then " + describeEnd(stopped)
                    + " (at offset " + end.offset() + " of " + end.fileBytes() + " bytes); GC does not collect it",
                    end.damage());
        }
    }

    private static String describeEnd(long damageOffset) {
        return damageOffset < 0 ? "at the end of the file" : "at damage at offset " + damageOffset;
    }

    /**
     * The live entries of one file on their way to the head of the log, written in batches of at
     * most {@link #rewriteBatchBytes}, with the counts that show no live entry stayed behind.
     */
    private final class Moves {
        private final List<Entry> entries = new ArrayList<>();
        private final List<ValuePointer> expected = new ArrayList<>();
        private long pendingBytes;
        /** Entries the LSM tree pointed to when the scan read them. */
        private long live;
        /** Of those, entries rewritten at the head of the log. */
        private long moved;
        /** Of those, entries whose key a newer write had changed when the rewrite was applied. */
        private long superseded;
        /** Entries still their key's newest after their rewrite was applied: must stay 0. */
        private long leftBehind;
        /** Value bytes rewritten. */
        private long bytes;

        void add(VlogEntry entry, ValueStruct current) {
            live++;
            entries.add(Entry.stored(entry.key(), entry.value(), current.userMeta(), current.expiresAtMillis()));
            expected.add(current.pointer());
            pendingBytes += entry.length();
            if (pendingBytes >= rewriteBatchBytes) {
                write();
            }
        }

        /** Rewrites the pending entries, keeping only keys still unchanged, and counts the outcome. */
        void write() {
            if (entries.isEmpty()) {
                return;
            }
            WriteBatch batch = new WriteBatch().asValueLogMoves();
            for (Entry e : entries) {
                batch.set(e);
            }
            List<ValuePointer> pointers = List.copyOf(expected);
            WriteBatch[] applied = new WriteBatch[1];
            pipeline.writeChecked(batch, candidates -> applied[0] = keepUnchanged(candidates, pointers), false);
            for (int i = 0; i < applied[0].size(); i++) {
                bytes += applied[0].entry(i).value().length;
            }
            moved += applied[0].size();
            superseded += entries.size() - applied[0].size();
            for (int i = 0; i < entries.size(); i++) {
                ValueStruct now = db.newestEntry(entries.get(i).key());
                if (now != null && now.isValuePointer() && now.pointer().equals(pointers.get(i))) {
                    leftBehind++;
                }
            }
            entries.clear();
            expected.clear();
            pendingBytes = 0;
        }

        /**
         * @throws IllegalStateException if a key's newest entry, looked up after its rewrite was
         *         applied, is still the live entry the scan found
         */
        void checkNoneLeftBehind(String name) {
            if (leftBehind > 0) {
                throw new IllegalStateException("value log " + name + ": of " + live + " live entries, " + moved
                        + " were rewritten and " + superseded + " superseded by newer writes, but " + leftBehind
                        + " are still the newest entries of their keys; GC does not collect it");
            }
        }
    }

    /**
     * The entries of {@code batch} whose key's newest committed value is still the expected
     * pointer (same index); run by the write leader, so no write can come between check and write.
     */
    private WriteBatch keepUnchanged(WriteBatch batch, List<ValuePointer> expected) {
        WriteBatch kept = new WriteBatch().asValueLogMoves();
        for (int i = 0; i < batch.size(); i++) {
            Entry e = batch.entry(i);
            ValueStruct current = db.newestEntry(e.key());
            if (current != null && current.isValuePointer() && current.pointer().equals(expected.get(i))) {
                kept.set(e);
            }
        }
        return kept;
    }
}
