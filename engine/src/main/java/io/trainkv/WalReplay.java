package io.trainkv;

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
import io.trainkv.wal.WalBatchDecoder;
import io.trainkv.wal.WalCorruptionException;
import io.trainkv.wal.WalFormat;
import io.trainkv.wal.WalReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Rebuilds memtables from the WAL files of a directory at open, reading only: each WAL becomes one
 * memtable, in file-number order, and {@link Result#makeDurable} then applies what the replay
 * decided. A torn tail of the newest WAL ends the log: it is reported at WARN and cut off, so that
 * the file never becomes an older log with a bad tail. Any other damage is a
 * {@link CorruptionException} naming the file and offset, thrown before any file is changed.
 *
 * <p>Value pointers are checked against the value log ({@link ValuePointerCheck}). A batch of the
 * newest WAL whose value a crash left unwritten was never committed: it ends the log like a torn
 * record. A value the value log shows was written in full and damaged since is not a torn tail;
 * the open fails naming the value-log file and offset, unless a later write of the same key,
 * replayed too, makes the value dead: then it costs nothing and is reported at WARN.
 *
 * <p>A value-log durable mark in a sound record of a replayed WAL proves its value-log file was
 * fsynced up to the mark's length before the record was written. So before an entry that does not
 * read back is taken for an unwritten tail, every mark of the WAL (read to its end under the WAL's
 * own torn-tail rule) and of the older WALs is looked at: a mark that covers the entry's end makes
 * it damage.
 */
final class WalReplay {

    private static final System.Logger LOG = System.getLogger(WalReplay.class.getName());

    /** The memtables rebuilt, the highest version found, and what must change on disk. */
    static final class Result {
        /** Rebuilt memtables, oldest first; WALs without a record have none. */
        final List<MemTable> memtables = new ArrayList<>();
        long maxVersion;
        private final List<String> replayed = new ArrayList<>();
        private final List<String> empty = new ArrayList<>();
        private String tornWal;
        private long tornAt = -1;

        /**
         * Makes what the replay read durable before anything can depend on it: cuts the torn tail
         * of the newest WAL, fsyncs every WAL replayed (a killed process may have left its bytes
         * in the page cache only, and a log that is no longer the newest must never tear), and
         * deletes the WALs that hold no record.
         */
        void makeDurable(Storage storage) throws IOException {
            for (String name : replayed) {
                try (WritableFile file = storage.openAppend(name)) {
                    if (name.equals(tornWal)) {
                        file.truncate(tornAt);
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

    /** A pointer of a replayed batch into a damaged value-log entry, kept until we know if it is live. */
    private record DamagedValue(byte[] key, long version, CorruptionException damage) {
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
     * Replays {@code walNumbers} (ascending) without changing any file.
     *
     * @param valueLog the value-log files, read to check the pointers of replayed batches
     * @param readOnly only for the wording of the torn-tail warning (ignored rather than dropped)
     * @throws CorruptionException naming the file and offset of damage that is not a torn tail of
     *         the newest WAL, or of a damaged value-log entry a live replayed write points to
     */
    static Result replay(Storage storage, List<Long> walNumbers, ValuePointerCheck valueLog, boolean readOnly)
            throws IOException {
        Result result = new Result();
        List<DamagedValue> damaged = new ArrayList<>();
        Map<Long, DurableMark> olderMarks = new HashMap<>();
        String tornReason = null;
        long tornFileSize = 0;
        for (int i = 0; i < walNumbers.size(); i++) {
            long number = walNumbers.get(i);
            String name = FileNames.name(number, FileNames.Kind.WAL);
            MemTable memtable = new MemTable(number);
            boolean newest = i == walNumbers.size() - 1;
            try (ReadableFile file = storage.openRead(name)) {
                WalReader reader = new WalReader(file, name, newest);
                String torn = replayFile(file, reader, name, newest, memtable, valueLog, olderMarks, damaged, result);
                if (torn == null && reader.tornTailOffset() >= 0) {
                    result.tornAt = reader.tornTailOffset();
                    torn = reader.tornTailReason();
                }
                if (torn != null) {
                    result.tornWal = name;
                    tornReason = torn;
                    tornFileSize = reader.fileSize();
                }
            } catch (WalCorruptionException e) {
                throw new CorruptionException(e.fileName(), e.offset(), "write-ahead log " + e.getMessage(), e);
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
            if (newer <= d.version()) {
                throw d.damage();
            }
            LOG.log(System.Logger.Level.WARNING, () -> d.damage().getMessage() + "; a later write of the key (version "
                    + newer + ") replaced the value, so nothing is lost, but the value-log file holds damage");
        }
        if (tornReason != null) {
            String reason = tornReason;
            long cut = result.tornAt;
            long bytes = tornFileSize - cut;
            LOG.log(System.Logger.Level.WARNING, () -> "write-ahead log " + result.tornWal + " ends in a torn tail at "
                    + "offset " + cut + " (" + reason + "); " + (readOnly ? "ignoring" : "dropping") + " the " + bytes
                    + " bytes from there on");
        }
        return result;
    }

    /**
     * Replays one WAL into {@code memtable}, adding its durable marks to {@code olderMarks} for
     * the WALs after it; returns why the log ends early if a batch of the newest WAL points at a
     * value a crash left unwritten (its offset is then in {@code result.tornAt}), else null.
     */
    private static String replayFile(ReadableFile file, WalReader reader, String name, boolean newest,
                                     MemTable memtable, ValuePointerCheck valueLog,
                                     Map<Long, DurableMark> olderMarks, List<DamagedValue> damaged, Result result)
            throws IOException {
        ByteBuffer payload;
        List<DecodedEntry> batch = new ArrayList<>();
        Map<Long, DurableMark> wholeLogMarks = null;
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
                    result.tornAt = recordOffset;
                    return "the batch at version " + version + " points to a value a crash left unwritten ("
                            + finding.problem().getMessage() + "; " + finding.reason() + "); the batch was not committed";
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
                damagedHere.add(new DamagedValue(e.key(), version, new CorruptionException(problem.fileName(),
                        problem.offset(), problem.getMessage() + "; write-ahead log " + name + " at offset "
                        + recordOffset + " (key " + Bytes.escape(e.key()) + ", version " + version + ") points to "
                        + "this entry, and it is damage, not a torn tail: " + why, problem)));
            }
            damaged.addAll(damagedHere);
            for (DecodedEntry e : batch) {
                memtable.put(e.key(), e.version(), e.meta(), e.userMeta(), e.expiresAt(), e.value());
            }
            result.maxVersion = Math.max(result.maxVersion, version);
        }
        return null;
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
