package io.trainkv;

import io.trainkv.util.KeyFormat;
import io.trainkv.util.MergingIterator;
import io.trainkv.util.ValueStruct;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Writes {@link TrainKV#export(OutputStream, long)}'s stream: walks every version of every key
 * (memtables and tables merged, newest version of a key first) and, for each key whose newest
 * write at or below the export's version is above {@code sinceVersion}, writes that write once:
 * a set with its value, user meta and expiry, or a delete. An entry already expired when the export
 * reads it is written as a delete: the importer reads the same (nothing), and its value may be in
 * a value-log file GC has already collected (GC keeps no expired value). A value-log GC move is not a write of
 * the user's: it is exported only if the write it copies may lie in the range (the next older
 * version is in it, or compaction has dropped it), so GC alone does not make keys reappear in
 * every incremental export. An incremental export whose range holds a deletion compaction has
 * discarded is refused before anything is written ({@link #requireExact}).
 */
final class Exporter {

    private Exporter() {
    }

    /**
     * Checks that an export since {@code sinceVersion} can hold every deletion: compaction has
     * discarded none above it ({@code droppedDeletionVersion}, read after the export pinned its
     * tables). A full export ({@code sinceVersion} 0) is always exact: it holds every live key.
     *
     * @throws IncompleteExportException if {@code 0 < sinceVersion < droppedDeletionVersion}
     */
    static void requireExact(long sinceVersion, long droppedDeletionVersion) {
        if (sinceVersion > 0 && sinceVersion < droppedDeletionVersion) {
            throw new IncompleteExportException(sinceVersion, droppedDeletionVersion);
        }
    }

    /**
     * Exports from {@code all} (positioned anywhere; every internal key, ascending) the writes in
     * {@code (sinceVersion, untilVersion]}.
     *
     * @param resolve the value bytes of a live entry (following a value pointer)
     * @param nowMillis the database clock's time (ms since the epoch): entries expired at it are deletes
     * @return the number of records written
     */
    static long write(MergingIterator all, long sinceVersion, long untilVersion, Function<ValueStruct, byte[]> resolve,
                      long nowMillis, OutputStream out) throws IOException {
        ExportStream.Writer writer = new ExportStream.Writer(out, sinceVersion, untilVersion);
        all.seekToFirst();
        while (all.valid()) {
            int userLength = all.keyLength() - KeyFormat.VERSION_SIZE;
            byte[] key = Arrays.copyOf(all.keyBuffer(), userLength);
            ValueStruct newest = null;
            long newestVersion = 0;
            boolean olderInRange = false;
            boolean hasOlder = false;
            for (; all.standsOn(key); all.next()) {
                long version = KeyFormat.getVersion(all.keyBuffer(), userLength);
                if (version > untilVersion) {
                    continue;
                }
                if (newest == null) {
                    newest = all.value();
                    newestVersion = version;
                } else if (!hasOlder) {
                    hasOlder = true;
                    olderInRange = version > sinceVersion;
                }
            }
            if (newest == null || newestVersion <= sinceVersion || (newest.isMoved() && hasOlder && !olderInRange)) {
                continue;
            }
            if (newest.isTombstone() || newest.isExpiredAt(nowMillis)) {
                writer.delete(newestVersion, key);
            } else {
                byte[] value = resolve.apply(newest);
                if (value == null) {
                    throw new StorageException("the value of a key at version " + newestVersion
                            + " is in a value-log file that is gone", null);
                }
                writer.set(newestVersion, key, value, newest.userMeta(), newest.expiresAtMillis());
            }
        }
        return writer.finish();
    }
}
