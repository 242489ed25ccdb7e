package io.trainkv;

import io.trainkv.memtable.MemTable;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import io.trainkv.util.KeyFormat;
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
 * so that the file never becomes an older log with a bad tail. Any other damage is a
 * {@link CorruptionException} naming the file and offset. Empty WALs are deleted.
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

    static Result replay(Storage storage, List<Long> walNumbers) throws IOException {
        Result result = new Result();
        boolean deleted = false;
        for (int i = 0; i < walNumbers.size(); i++) {
            long number = walNumbers.get(i);
            String name = FileNames.name(number, FileNames.Kind.WAL);
            MemTable memtable = new MemTable(number);
            boolean newest = i == walNumbers.size() - 1;
            long records = replayFile(storage, name, newest, memtable, result);
            if (records == 0) {
                storage.delete(name);
                deleted = true;
            } else {
                result.memtables.add(memtable);
            }
        }
        if (deleted) {
            storage.syncDirectory();
        }
        return result;
    }

    private static long replayFile(Storage storage, String name, boolean newest, MemTable memtable, Result result)
            throws IOException {
        long records = 0;
        long tornAt;
        long fileSize;
        String tornReason;
        try (ReadableFile file = storage.openRead(name)) {
            WalReader reader = new WalReader(file, name, newest);
            ByteBuffer payload;
            while ((payload = reader.next()) != null) {
                long recordOffset = reader.recordOffset();
                long version;
                try {
                    version = WalBatchDecoder.decode(payload, (v, meta, userMeta, expiresAt, key, value) ->
                            memtable.put(key, v, meta, userMeta, expiresAt, value));
                } catch (IllegalArgumentException e) {
                    throw new CorruptionException(name, recordOffset, "write-ahead log " + name + " at offset "
                            + recordOffset + ": malformed batch: " + e.getMessage(), e);
                }
                if (version < KeyFormat.MIN_VERSION || version > KeyFormat.MAX_VERSION) {
                    throw new CorruptionException(name, recordOffset, "write-ahead log " + name + " at offset "
                            + recordOffset + ": batch version " + version + " is out of range");
                }
                result.maxVersion = Math.max(result.maxVersion, version);
                records++;
            }
            tornAt = reader.tornTailOffset();
            tornReason = reader.tornTailReason();
            fileSize = reader.fileSize();
        } catch (WalCorruptionException e) {
            throw new CorruptionException(e.fileName(), e.offset(), "write-ahead log " + e.getMessage(), e);
        }
        if (tornAt >= 0) {
            LOG.log(System.Logger.Level.WARNING, () -> "write-ahead log " + name + " ends in a torn tail at offset "
                    + tornAt + " (" + tornReason + "); dropping the " + (fileSize - tornAt)
                    + " bytes after the last complete record");
            try (WritableFile file = storage.openAppend(name)) {
                file.truncate(tornAt);
                file.sync();
            }
        }
        return records;
    }
}
