package io.trainkv;

import io.trainkv.manifest.VersionEdit;
import io.trainkv.manifest.VersionSet;
import io.trainkv.storage.FileNames;
import io.trainkv.txn.SnapshotRegistry;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import io.trainkv.vlog.ValueLog;
import io.trainkv.vlog.VlogEntry;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
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
    /** Files found damaged other than by a torn tail this session: automatic GC skips them. */
    private final Set<Long> damagedFiles = ConcurrentHashMap.newKeySet();

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
        return run(fileId -> true, discardRatio, false, true);
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
            boolean collect = !sampleOnly && ratio >= discardRatio && !(automatic && damagedFiles.contains(fileId));
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
     * What a whole read of a file found: its entries end at its end ({@code tornTail} -1) or at a
     * torn tail, or, with a {@code refusal}, at damage after which live values may be unreadable.
     */
    private record Readability(long tornTail, CorruptionException refusal) {
    }

    /**
     * Reads the whole file to decide whether it may be collected: its entries must end at its end
     * or at a torn tail, damage that no sound entry follows and no live pointer reaches. A refused
     * file joins {@link #damagedFiles}.
     */
    private Readability readability(long fileId) throws IOException {
        CorruptionException damage = valueLog.scan(fileId, entry -> true);
        if (damage == null) {
            return new Readability(-1, null);
        }
        String name = damage.fileName();
        long at = damage.offset();
        long sound = valueLog.nextSoundEntry(fileId, at + 1);
        ValuePointer reaching = sound >= 0 ? null : db.firstLivePointerInto(fileId, at);
        if (sound < 0 && reaching == null) {
            damagedFiles.remove(fileId);
            LOG.log(System.Logger.Level.WARNING, () -> "value log " + name + " ends in a torn tail at offset " + at
                    + " that no live value reaches; GC collects the entries before it (" + damage.getMessage() + ")");
            return new Readability(at, null);
        }
        String why = sound >= 0
                ? "a sound entry follows at offset " + sound + ", so live values after the damage may be lost"
                : "a live value at offset " + reaching.offset() + " lies at or past the damage";
        damagedFiles.add(fileId);
        return new Readability(at, new CorruptionException(name, at, "value log " + name + " is damaged at offset "
                + at + " and " + why + "; GC does not collect it (" + damage.getMessage() + ")", damage));
    }

    /**
     * Rewrites the live entries of a file, records it as collected and retires it; returns bytes
     * rewritten. {@code tornTail} is where {@link #readability(long)} found the entries to end
     * (-1 at the end of the file); if this read ends elsewhere, the file is not recorded as collected.
     */
    private long collect(long fileId, long tornTail) throws IOException {
        long[] rewritten = new long[1];
        List<Entry> entries = new ArrayList<>();
        List<ValuePointer> expected = new ArrayList<>();
        long[] pendingBytes = new long[1];
        CorruptionException damage = valueLog.scan(fileId, entry -> {
            ValueStruct current = isLive(entry);
            if (current != null) {
                entries.add(Entry.stored(entry.key(), entry.value(), current.userMeta(), current.expiresAtMillis()));
                expected.add(current.pointer());
                pendingBytes[0] += entry.length();
                if (pendingBytes[0] >= rewriteBatchBytes) {
                    rewritten[0] += rewrite(entries, expected);
                    pendingBytes[0] = 0;
                }
            }
            return true;
        });
        rewritten[0] += rewrite(entries, expected);
        long end = damage == null ? -1 : damage.offset();
        if (end != tornTail) {
            damagedFiles.add(fileId);
            String name = FileNames.name(fileId, FileNames.Kind.VALUE_LOG);
            throw new CorruptionException(name, Math.max(end, tornTail), "value log " + name + " read differently twice:"
                    + " its entries ended " + describeEnd(tornTail) + ", then " + describeEnd(end)
                    + "; GC does not collect it", damage);
        }
        pipeline.sync();
        versions.logAndApply(new VersionEdit().valueLogCollected(fileId));
        valueLog.retire(fileId, pipeline.visibleVersion());
        return rewritten[0];
    }

    private static String describeEnd(long damageOffset) {
        return damageOffset < 0 ? "at the end of the file" : "at damage at offset " + damageOffset;
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

    private long rewrite(List<Entry> entries, List<ValuePointer> expected) {
        if (entries.isEmpty()) {
            return 0;
        }
        WriteBatch batch = new WriteBatch().asValueLogMoves();
        long bytes = 0;
        for (Entry e : entries) {
            batch.set(e);
            bytes += e.value().length;
        }
        List<ValuePointer> pointers = List.copyOf(expected);
        pipeline.writeChecked(batch, candidates -> keepUnchanged(candidates, pointers), false);
        entries.clear();
        expected.clear();
        return bytes;
    }
}
