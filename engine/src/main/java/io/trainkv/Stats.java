package io.trainkv;

import java.util.List;

/**
 * A snapshot of the database's counters, from {@link TrainKV#stats()}. Byte counters are
 * cumulative since open.
 *
 * @param batchesWritten       write batches committed (each single set or delete is one)
 * @param writeGroups          group commits: WAL appends that carried one or more batches
 * @param walSyncs             fsyncs of WAL files
 * @param walBytes             bytes appended to WAL files
 * @param writeStalls          times writers stopped until a flush or compaction caught up
 * @param writeSlowdowns       write groups delayed 1 ms because level 0 reached the slowdown trigger
 * @param memtables            memtables in memory, the active one included
 * @param memtableBytes        arena bytes used by those memtables
 * @param lastVersion          the newest version visible to reads
 * @param levels               table count, bytes and target bytes per level, L0 first (target 0: L0,
 *                             and levels above the base level, which stay empty)
 * @param flushedBytes         bytes of tables written by flushes
 * @param compactionReadBytes  bytes of tables read by compactions
 * @param compactionWriteBytes bytes of tables written by compactions
 * @param compactions          compactions finished, trivial moves included
 */
public record Stats(long batchesWritten, long writeGroups, long walSyncs, long walBytes, long writeStalls,
                    long writeSlowdowns, int memtables, long memtableBytes, long lastVersion, List<LevelStats> levels,
                    long flushedBytes, long compactionReadBytes, long compactionWriteBytes, long compactions) {

    /** One level's shape. */
    public record LevelStats(int level, int tables, long bytes, long targetBytes) {
    }

    /**
     * Write amplification of the tree: bytes written to tables (flushes plus compactions) per byte
     * flushed; 1.0 before any compaction, 0 before any flush.
     */
    public double writeAmplification() {
        return flushedBytes == 0 ? 0 : (flushedBytes + compactionWriteBytes) / (double) flushedBytes;
    }
}
