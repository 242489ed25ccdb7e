package io.trainkv;

/**
 * A snapshot of the database's counters, from {@link TrainKV#stats()}.
 *
 * @param batchesWritten   write batches committed since open (each single set or delete is one)
 * @param writeGroups      group commits: WAL appends that carried one or more batches
 * @param walSyncs         fsyncs of WAL files
 * @param walBytes         bytes appended to WAL files since open
 * @param memtables        memtables in memory, the active one included
 * @param memtableBytes    arena bytes used by those memtables
 * @param lastVersion      the newest version visible to reads
 */
public record Stats(long batchesWritten, long writeGroups, long walSyncs, long walBytes, int memtables,
                    long memtableBytes, long lastVersion) {
}
