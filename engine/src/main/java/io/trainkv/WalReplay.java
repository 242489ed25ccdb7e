package io.trainkv;

import io.trainkv.memtable.MemTable;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import io.trainkv.vlog.ValueLog;
import io.trainkv.wal.WalBatchDecoder;
import io.trainkv.wal.WalCorruptionException;
import io.trainkv.wal.WalReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Rebuilds memtables from the WAL files of a directory at open. Each WAL becomes one memtable, in
 * file-number order. A torn tail of the newest WAL ends the log: it is reported at WARN and cut off,
 * so that the file never becomes an older log with a bad tail. A batch of the newest WAL whose
 * value pointers name value-log entries a crash left unwritten was never committed: it ends the
 * log the same way. Any other damage is a {@link CorruptionException} naming the file and offset.
 * Empty WALs are deleted. A read-only replay changes no file: a torn tail is only skipped, and
 * empty WALs are left in place.
 */
final class WalReplay {

    private static final System.Logger LOG = System.getLogger(WalReplay.class.getName());

    /** The memtables rebuilt, oldest first, and the highest version found. */
    static final class Result {
        final List<MemTable> memtables = new ArrayList<>();
        long maxVersion;
    }

    private WalReplay() {
    }

    static Result replay(Storage storage, List<Long> walNumbers, ValueLog valueLog, boolean readOnly)
            throws IOException {
        Result result = new Result();
        boolean deleted = false;
        for (int i = 0; i < walNumbers.size(); i++) {
            long number = walNumbers.get(i);
            String name = FileNames.name(number, FileNames.Kind.WAL);
            MemTable memtable = new MemTable(number);
            boolean newest = i == walNumbers.size() - 1;
            long records = replayFile(storage, name, newest, memtable, valueLog, readOnly, result);
            if (records > 0) {
                result.memtables.add(memtable);
            } else if (!readOnly) {
                storage.delete(name);
                deleted = true;
            }
        }
        if (deleted) {
            storage.syncDirectory();
        }
        return result;
    }

    /** One decoded WAL entry, held until its whole batch has been checked. */
    private record DecodedEntry(long version, byte meta, byte userMeta, long expiresAt, byte[] key, byte[] value) {
    }

    private static long replayFile(Storage storage, String name, boolean newest, MemTable memtable, ValueLog valueLog,
                                   boolean readOnly, Result result) throws IOException {
        long records = 0;
        long tornAt;
        long fileSize;
        String tornReason;
        try (ReadableFile file = storage.openRead(name)) {
            WalReader reader = new WalReader(file, name, newest);
            fileSize = reader.fileSize();
            tornAt = -1;
            tornReason = null;
            ByteBuffer payload;
            List<DecodedEntry> batch = new ArrayList<>();
            while ((payload = reader.next()) != null) {
                long recordOffset = reader.recordOffset();
                long version;
                batch.clear();
                try {
                    version = WalBatchDecoder.decode(payload, (v, meta, userMeta, expiresAt, key, value) ->
                            batch.add(new DecodedEntry(v, meta, userMeta, expiresAt, key, value)));
                } catch (IllegalArgumentException e) {
                    throw new CorruptionException(name, recordOffset, "write-ahead log " + name + " at offset "
                            + recordOffset + ": malformed batch: " + e.getMessage(), e);
                }
                if (version < KeyFormat.MIN_VERSION || version > KeyFormat.MAX_VERSION) {
                    throw new CorruptionException(name, recordOffset, "write-ahead log " + name + " at offset "
                            + recordOffset + ": batch version " + version + " is out of range");
                }
                String badPointer = firstInvalidPointer(batch, valueLog);
                if (badPointer != null) {
                    if (!newest) {
                        throw new CorruptionException(name, recordOffset, "write-ahead log " + name + " at offset "
                                + recordOffset + ": batch at version " + version + " points to " + badPointer);
                    }
                    tornAt = recordOffset;
                    tornReason = "the batch at version " + version + " points to " + badPointer
                            + ", which a crash left unwritten; the batch was not committed";
                    break;
                }
                for (DecodedEntry e : batch) {
                    memtable.put(e.key(), e.version(), e.meta(), e.userMeta(), e.expiresAt(), e.value());
                }
                result.maxVersion = Math.max(result.maxVersion, version);
                records++;
            }
            if (tornAt < 0) {
                tornAt = reader.tornTailOffset();
                tornReason = reader.tornTailReason();
            }
        } catch (WalCorruptionException e) {
            throw new CorruptionException(e.fileName(), e.offset(), "write-ahead log " + e.getMessage(), e);
        }
        if (tornAt >= 0) {
            long cut = tornAt;
            String reason = tornReason;
            LOG.log(System.Logger.Level.WARNING, () -> "write-ahead log " + name + " ends in a torn tail at offset "
                    + cut + " (" + reason + "); " + (readOnly ? "ignoring" : "dropping") + " the " + (fileSize - cut)
                    + " bytes from there on");
            if (!readOnly) {
                try (WritableFile file = storage.openAppend(name)) {
                    file.truncate(tornAt);
                    file.sync();
                }
            }
        }
        return records;
    }

    /**
     * A description of the first value pointer of the batch that names no complete entry, or
     * null. A pointer into a file GC collected is fine: GC rewrote (and synced) every entry of it
     * that was still live before collecting it, so the pointer is superseded.
     */
    private static String firstInvalidPointer(List<DecodedEntry> batch, ValueLog valueLog) throws IOException {
        for (DecodedEntry e : batch) {
            if ((e.meta() & ValueStruct.META_VALUE_POINTER) != 0) {
                ValuePointer pointer;
                try {
                    pointer = ValuePointer.decode(e.value());
                } catch (IllegalArgumentException bad) {
                    return "a malformed value pointer (" + bad.getMessage() + ")";
                }
                if (!valueLog.isCollected(pointer.fileId()) && !valueLog.isValid(pointer)) {
                    return "value log " + FileNames.name(pointer.fileId(), FileNames.Kind.VALUE_LOG) + " offset "
                            + pointer.offset() + " (" + pointer.length() + " bytes)";
                }
            }
        }
        return null;
    }
}
