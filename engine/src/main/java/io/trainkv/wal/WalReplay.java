package io.trainkv.wal;

import io.trainkv.CorruptionException;
import io.trainkv.memtable.MemTable;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import io.trainkv.util.Bytes;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import io.trainkv.vlog.ValuePointerCheck;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rebuilds memtables from the WAL files of a directory at open, reading only: each WAL becomes one
 * memtable, in file-number order, and {@link Result#makeDurable} then applies what the replay
 * decided. A torn tail of the newest WAL ends the log: {@link Result#tornTail()} says where, and
 * {@code makeDurable} cuts it off, so that the file never becomes an older log with a bad tail.
 * Any other damage of a WAL record ends the replay with {@link Result#walDamage()}, before any
 * file is changed.
 *
 * <p>Value pointers are checked against the value log ({@link ValuePointerCheck}). A batch of the
 * newest WAL whose value a crash left unwritten was never committed: it ends the log like a torn
 * record. A value the value log shows was written in full and damaged since is not a torn tail:
 * it is {@link DamagedValue damage}, which fails the open unless a later write of the same key,
 * replayed too, makes the value dead ({@link DamagedValue#supersededBy()}).
 *
 * <p>A value-log durable mark in a sound record of a replayed WAL proves its value-log file was
 * fsynced up to the mark's length before the record was written. So before an entry that does not
 * read back is taken for an unwritten tail, every mark of the WAL (read to its end under the WAL's
 * own torn-tail rule) and of the older WALs is looked at: a mark that covers the entry's end makes
 * it damage.
 *
 * <p>Internal: public only so that the offline tools ({@code check}, {@code vlog-verify}) foresee
 * exactly what an open does, with this code rather than a copy of its rules.
 */
public final class WalReplay {

    /**
     * Decoded key and value bytes gathered before they are sorted and inserted into the memtable
     * (see {@link #insertSorted}): 16 MiB.
     */
    private static final long SORT_RUN_BYTES = 16L << 20;

    /** Internal-key order: user key ascending, then version descending (the memtable's order). */
    private static final Comparator<DecodedEntry> INTERNAL_KEY_ORDER = (a, b) -> {
        int c = Arrays.compareUnsigned(a.key(), b.key());
        return c != 0 ? c : Long.compare(b.version(), a.version());
    };

    /**
     * A pointer of a replayed batch (in WAL {@code wal}, the batch's record at {@code recordOffset}
     * bytes, key and batch version) into a value-log entry that does not read back and is damage,
     * not a torn tail: {@code damage} names the value-log file and the entry's offset and says why;
     * {@code supersededBy} is the version of a later replayed write of the key (0 if none: then the
     * open fails with {@code damage}).
     */
    public record DamagedValue(String wal, long recordOffset, byte[] key, long version, ValuePointer pointer,
                               ValuePointerCheck.Finding finding, CorruptionException damage, long supersededBy) {
    }

    /**
     * The tail of the newest WAL an open drops: where it starts (bytes), the records from there on
     * and the entries (keys) their batches hold (for a bad record, as far as its header claims:
     * {@link WalReader#tornTailRecords()}), the bytes from there to the end of the file (for a
     * tail a batch's unwritten value starts, to the end of its last record when only preallocated
     * zeros follow), and why;
     * when a batch's unwritten value ends the log, that batch's key, version, pointer and finding
     * (else null and 0). {@code zeros}: the tail holds zeros only ({@link WalReader#tornTailIsZeros()}),
     * the space a log writer preallocated ahead of its appends, so no record is dropped with it.
     */
    public record TornTail(String wal, long offset, long records, long entries, long bytes, String reason, byte[] key,
                           long version, ValuePointer pointer, ValuePointerCheck.Finding finding, boolean zeros) {

        /** What the open drops, in words: {@code 1 record (6 keys), 214 bytes from offset 0}. */
        public String dropped() {
            return records + (records == 1 ? " record" : " records") + " (" + entries + (entries == 1 ? " key" : " keys")
                    + "), " + bytes + " bytes from offset " + offset;
        }
    }

    /** The memtables rebuilt, the highest version found, and what must change on disk. */
    public static final class Result {
        private final List<MemTable> memtables = new ArrayList<>();
        private final List<DamagedValue> damaged = new ArrayList<>();
        private final List<String> replayed = new ArrayList<>();
        private final List<String> empty = new ArrayList<>();
        private long maxVersion;
        private long pointersChecked;
        private TornTail tornTail;
        private CorruptionException walDamage;

        /** Rebuilt memtables, oldest first; WALs without a record have none. */
        public List<MemTable> memtables() {
            return Collections.unmodifiableList(memtables);
        }

        /** The highest batch version replayed (0 if none). */
        public long maxVersion() {
            return maxVersion;
        }

        /** Value pointers checked (those into collected value-log files are superseded and not counted). */
        public long pointersChecked() {
            return pointersChecked;
        }

        /** Every damaged value a replayed batch points to, in WAL order. */
        public List<DamagedValue> damagedValues() {
            return Collections.unmodifiableList(damaged);
        }

        /** The torn tail an open drops from the newest WAL, or null. */
        public TornTail tornTail() {
            return tornTail;
        }

        /** Damage in a WAL record or batch, where the replay stopped, or null. */
        public CorruptionException walDamage() {
            return walDamage;
        }

        /**
         * What fails an open: the WAL damage, else the first damaged value no later write
         * superseded, else null.
         */
        public CorruptionException openFailure() {
            if (walDamage != null) {
                return walDamage;
            }
            for (DamagedValue d : damaged) {
                if (d.supersededBy() == 0) {
                    return d.damage();
                }
            }
            return null;
        }

        /**
         * Makes what the replay read durable before anything can depend on it: cuts the torn tail
         * of the newest WAL, fsyncs every WAL replayed (a killed process may have left its bytes
         * in the page cache only, and a log that is no longer the newest must never tear), and
         * deletes the WALs that hold no record.
         */
        public void makeDurable(Storage storage) throws IOException {
            for (String name : replayed) {
                try (WritableFile file = storage.openAppend(name)) {
                    if (tornTail != null && name.equals(tornTail.wal())) {
                        file.truncate(tornTail.offset());
                    }
                    file.sync();
                }
            }
            for (String name : empty) {
                storage.delete(name);
            }
            if (!empty.isEmpty()) {
                storage.syncDirectory();
            }
        }
    }

    /** The largest durable length a mark recorded for a value-log file, and where that mark is. */
    private record DurableMark(long length, String wal, long offset) {
    }

    /** One decoded WAL entry, held until its whole batch has been checked. */
    private record DecodedEntry(long version, byte meta, byte userMeta, long expiresAt, byte[] key, byte[] value) {
    }

    private WalReplay() {
    }

    /**
     * Damage if WAL number {@code number} is also the number of a table the manifest records as
     * live ({@code liveTables}), else null. The engine gives every file a number of its own, so
     * such a file is not a write-ahead log (a table renamed, say); read as one, its bytes would
     * look like a torn tail at offset 0 and an open would cut the file to nothing.
     */
    public static CorruptionException notALog(long number, Set<Long> liveTables) {
        if (!liveTables.contains(number)) {
            return null;
        }
        String name = FileNames.name(number, FileNames.Kind.WAL);
        return new CorruptionException(name, 0, "write-ahead log " + name + " has the number of live table "
                + FileNames.name(number, FileNames.Kind.TABLE) + " in the manifest (every file gets a number of its "
                + "own): it is not a write-ahead log, and none of it is a torn tail");
    }

    /**
     * Replays {@code walNumbers} (ascending) without changing any file; stops at the first damaged
     * WAL record or batch ({@link Result#walDamage()}), or at a WAL whose number is a live table's
     * ({@link #notALog}).
     *
     * @param valueLog the value-log files, read to check the pointers of replayed batches
     * @param liveTables the file numbers of the tables the manifest records as live
     * @throws IOException if a file cannot be read
     */
    public static Result replay(Storage storage, List<Long> walNumbers, ValuePointerCheck valueLog, Set<Long> liveTables)
            throws IOException {
        Result result = new Result();
        List<DamagedValue> damaged = new ArrayList<>();
        Map<Long, DurableMark> olderMarks = new HashMap<>();
        for (int i = 0; i < walNumbers.size() && result.walDamage == null; i++) {
            long number = walNumbers.get(i);
            String name = FileNames.name(number, FileNames.Kind.WAL);
            result.walDamage = notALog(number, liveTables);
            if (result.walDamage != null) {
                break;
            }
            // A replayed memtable's arena takes about as many bytes as its log's records; the log
            // may end in up to a region of zeros, so its size bounds the filter's capacity.
            MemTable memtable = new MemTable(number, MemTable.DEFAULT_CHUNK_BITS, storage.size(name));
            boolean newest = i == walNumbers.size() - 1;
            try (ReadableFile file = storage.openRead(name)) {
                WalReader reader = new WalReader(file, name, newest);
                replayFile(file, reader, name, newest, memtable, valueLog, olderMarks, damaged, result);
                if (result.tornTail == null && reader.tornTailOffset() >= 0) {
                    result.tornTail = new TornTail(name, reader.tornTailOffset(), reader.tornTailRecords(),
                            reader.tornTailEntries(), reader.fileSize() - reader.tornTailOffset(), reader.tornTailReason(),
                            null, 0, null, null, reader.tornTailIsZeros());
                }
            } catch (WalCorruptionException e) {
                result.walDamage = new CorruptionException(e.fileName(), e.offset(), "write-ahead log " + e.getMessage(), e);
            } catch (CorruptionException e) {
                result.walDamage = e;
            }
            if (memtable.isEmpty()) {
                result.empty.add(name);
            } else {
                result.memtables.add(memtable);
                result.replayed.add(name);
            }
        }
        for (DamagedValue d : damaged) {
            long newer = newestVersion(result.memtables, d.key());
            result.damaged.add(newer > d.version() ? new DamagedValue(d.wal(), d.recordOffset(), d.key(), d.version(),
                    d.pointer(), d.finding(), d.damage(), newer) : d);
        }
        return result;
    }

    /**
     * Replays one WAL into {@code memtable}, adding its durable marks to {@code olderMarks} for
     * the WALs after it; sets {@code result}'s torn tail if a batch of the newest WAL points at a
     * value a crash left unwritten.
     *
     * @throws CorruptionException for a malformed batch, version or pointer
     */
    private static void replayFile(ReadableFile file, WalReader reader, String name, boolean newest,
                                   MemTable memtable, ValuePointerCheck valueLog,
                                   Map<Long, DurableMark> olderMarks, List<DamagedValue> damaged, Result result)
            throws IOException {
        List<DecodedEntry> run = new ArrayList<>();
        try {
            replayRecords(file, reader, name, newest, memtable, valueLog, olderMarks, damaged, result, run);
        } finally { // what was replayed up to a torn tail or damage stays replayed
            insertSorted(run, memtable);
        }
    }

    /**
     * Inserts {@code run} into {@code memtable} in internal-key order, then empties it. Entries
     * of a WAL arrive in write order, which for random keys sends every insert down a different
     * path of the skip list; sorted, consecutive inserts share most of their path and stay in the
     * CPU caches (a profiled open with a full 64 MiB memtable of random keys spent 83% of its time
     * in skip-list searches; docs/benchmarks.md). The sort is stable, so of two entries with the
     * same key and version the one written first is inserted first and kept, as without sorting.
     */
    private static void insertSorted(List<DecodedEntry> run, MemTable memtable) {
        run.sort(INTERNAL_KEY_ORDER);
        for (DecodedEntry e : run) {
            memtable.put(e.key(), e.version(), e.meta(), e.userMeta(), e.expiresAt(), e.value());
        }
        run.clear();
    }

    /**
     * The record loop of {@link #replayFile}: gathers the entries of every replayed batch in
     * {@code run}, inserting them sorted each time {@value #SORT_RUN_BYTES} bytes are gathered.
     */
    private static void replayRecords(ReadableFile file, WalReader reader, String name, boolean newest,
                                      MemTable memtable, ValuePointerCheck valueLog, Map<Long, DurableMark> olderMarks,
                                      List<DamagedValue> damaged, Result result, List<DecodedEntry> run)
            throws IOException {
        ByteBuffer payload;
        List<DecodedEntry> batch = new ArrayList<>();
        Map<Long, DurableMark> wholeLogMarks = null;
        long runBytes = 0;
        while ((payload = reader.next()) != null) {
            long recordOffset = reader.recordOffset();
            long version;
            batch.clear();
            try {
                version = WalBatchDecoder.decode(payload, new WalBatchDecoder.Visitor() {
                    @Override
                    public void entry(long v, byte meta, byte userMeta, long expiresAt, byte[] key, byte[] value) {
                        batch.add(new DecodedEntry(v, meta, userMeta, expiresAt, key, value));
                    }

                    @Override
                    public void durableMark(long fileId, long durableLength) {
                        addMark(olderMarks, fileId, new DurableMark(durableLength, name, recordOffset));
                    }
                });
            } catch (IllegalArgumentException e) {
                throw new CorruptionException(name, recordOffset, "write-ahead log " + name + " at offset "
                        + recordOffset + ": malformed batch: " + e.getMessage(), e);
            }
            if (version == WalFormat.DURABLE_MARK_VERSION) {
                continue;
            }
            if (version < KeyFormat.MIN_VERSION || version > KeyFormat.MAX_VERSION) {
                throw new CorruptionException(name, recordOffset, "write-ahead log " + name + " at offset "
                        + recordOffset + ": batch version " + version + " is out of range");
            }
            List<DamagedValue> damagedHere = new ArrayList<>();
            for (DecodedEntry e : batch) {
                if ((e.meta() & ValueStruct.META_VALUE_POINTER) == 0) {
                    continue;
                }
                ValuePointer pointer;
                try {
                    pointer = ValuePointer.decode(e.value());
                } catch (IllegalArgumentException bad) {
                    throw new CorruptionException(name, recordOffset, "write-ahead log " + name + " at offset "
                            + recordOffset + ": malformed value pointer: " + bad.getMessage(), bad);
                }
                if (!valueLog.isCollected(pointer.fileId())) {
                    result.pointersChecked++;
                }
                ValuePointerCheck.Finding finding = valueLog.check(pointer, e.key(), version);
                if (finding == null) {
                    continue;
                }
                DurableMark covering = null;
                if (newest && finding.mayBeTorn()) {
                    if (wholeLogMarks == null) {
                        wholeLogMarks = marksOf(file, name, olderMarks);
                    }
                    covering = covering(wholeLogMarks, pointer);
                }
                if (newest && finding.mayBeTorn() && covering == null) {
                    // the batch was never committed, so damage in its other values costs nothing
                    String reason = "the batch at version " + version + " points to a value a crash left unwritten ("
                            + finding.problem().getMessage() + "; " + finding.reason() + "); the batch was not committed";
                    long[] dropped = recordsFrom(reader, batch.size());
                    result.tornTail = new TornTail(name, recordOffset, dropped[0], dropped[1],
                            dropped[2] - recordOffset, reason, e.key(), version, pointer, finding, false);
                    return;
                }
                CorruptionException problem = finding.problem();
                String why;
                if (covering != null) {
                    why = "write-ahead log " + covering.wal() + " at offset " + covering.offset() + " records "
                            + problem.fileName() + " durable to " + covering.length() + " bytes, past the entry's end "
                            + "at " + (pointer.offset() + pointer.length()) + ", so it was fsynced";
                } else if (finding.mayBeTorn()) {
                    why = "the log is not the newest, and a log is closed only after the values it points to are synced";
                } else {
                    why = finding.reason();
                }
                damagedHere.add(new DamagedValue(name, recordOffset, e.key(), version, pointer, finding,
                        new CorruptionException(problem.fileName(), problem.offset(), problem.getMessage()
                                + "; write-ahead log " + name + " at offset " + recordOffset + " (key "
                                + Bytes.escape(e.key()) + ", version " + version + ") points to this entry, and it is"
                                + " damage, not a torn tail: " + why, problem), 0));
            }
            damaged.addAll(damagedHere);
            for (DecodedEntry e : batch) {
                run.add(e);
                runBytes += e.key().length + e.value().length;
            }
            if (runBytes >= SORT_RUN_BYTES) {
                insertSorted(run, memtable);
                runBytes = 0;
            }
            result.maxVersion = Math.max(result.maxVersion, version);
        }
    }

    /**
     * The valid records from the one {@code reader} just returned on (it counts, with its
     * {@code entries}) to the end of the log, the entries of their batches, and where the bytes
     * they take end: {records, entries, end}. The end is that of the last record when only the
     * zeros preallocated ahead of the appends follow it (they hold no record), else the file's.
     */
    private static long[] recordsFrom(WalReader reader, int entries) throws IOException {
        long[] dropped = {1, entries, reader.fileSize()};
        ByteBuffer payload;
        try {
            while ((payload = reader.next()) != null) {
                dropped[0]++;
                dropped[1] += WalBatchDecoder.claimedEntries(payload, payload.remaining());
            }
            if (reader.tornTailIsZeros()) {
                dropped[2] = reader.validEnd();
            }
        } catch (WalCorruptionException e) {
            // the open never reads past the dropped batch, so damage further on changes nothing
        }
        return dropped;
    }

    /**
     * The durable marks of {@code olderMarks} (those of the older WALs, and of this one up to
     * where the replay is) and of every sound record of the WAL {@code name}, read from its start with a
     * reader of its own under the newest WAL's torn-tail rule (a bad record with nothing valid
     * after it ends the log; one with valid records after it is damage and throws). Records that
     * do not decode prove nothing and are skipped: the replay reports them if it reaches them.
     */
    private static Map<Long, DurableMark> marksOf(ReadableFile file, String name, Map<Long, DurableMark> olderMarks)
            throws IOException {
        Map<Long, DurableMark> marks = new HashMap<>(olderMarks);
        WalReader reader = new WalReader(file, name, true);
        ByteBuffer payload;
        while ((payload = reader.next()) != null) {
            long offset = reader.recordOffset();
            try {
                WalBatchDecoder.decode(payload, new WalBatchDecoder.Visitor() {
                    @Override
                    public void entry(long v, byte meta, byte userMeta, long expiresAt, byte[] key, byte[] value) {
                    }

                    @Override
                    public void durableMark(long fileId, long durableLength) {
                        addMark(marks, fileId, new DurableMark(durableLength, name, offset));
                    }
                });
            } catch (IllegalArgumentException malformed) {
                continue;
            }
        }
        return marks;
    }

    /** Keeps in {@code marks} the mark with the larger durable length for {@code fileId}. */
    private static void addMark(Map<Long, DurableMark> marks, long fileId, DurableMark mark) {
        marks.merge(fileId, mark, (a, b) -> a.length() >= b.length() ? a : b);
    }

    /** The mark proving the entry {@code pointer} names was durable in full, or null. */
    private static DurableMark covering(Map<Long, DurableMark> marks, ValuePointer pointer) {
        DurableMark mark = marks.get(pointer.fileId());
        return mark != null && mark.length() >= pointer.offset() + pointer.length() ? mark : null;
    }

    /** The newest version of {@code key} in the replayed memtables, or 0. */
    private static long newestVersion(List<MemTable> memtables, byte[] key) {
        long newest = 0;
        for (MemTable memtable : memtables) {
            ValueStruct found = memtable.get(key, KeyFormat.MAX_VERSION);
            if (found != null) {
                newest = Math.max(newest, found.version());
            }
        }
        return newest;
    }
}
