package io.trainkv;

import java.util.List;
import java.util.Locale;

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
 * @param compactions          compactions finished that merged tables into new ones (trivial moves not
 *                             included)
 * @param trivialMoves         trivial moves finished: a table moved to the next level without being
 *                             read or rewritten (a manifest edit alone)
 * @param valueLogFiles        every live value-log file with its size and discarded bytes
 * @param blockCache           the data-block cache's counters (all zero when it is off)
 * @param indexCache           the index-and-filter cache's counters (all zero when it is off)
 * @param valueLogGcFilesExamined sealed value-log files GC runs have estimated (and collected or not)
 * @param valueLogWriteBytes   bytes of entries appended to value-log files (writes and GC rewrites,
 *                             also in files deleted since)
 */
public record Stats(long batchesWritten, long writeGroups, long walSyncs, long walBytes, long writeStalls,
                    long writeSlowdowns, int memtables, long memtableBytes, long lastVersion, List<LevelStats> levels,
                    long flushedBytes, long compactionReadBytes, long compactionWriteBytes, long compactions,
                    long trivialMoves, List<ValueLogFile> valueLogFiles, CacheStats blockCache, CacheStats indexCache,
                    long valueLogGcFilesExamined, long valueLogWriteBytes) {

    /** A cache's counters: lookups that hit and missed, entries evicted, bytes held and allowed. */
    public record CacheStats(long hits, long misses, long evictions, long bytes, long maximumBytes) {
        /** Hits per lookup, 0 before any lookup. */
        public double hitRate() {
            long lookups = hits + misses;
            return lookups == 0 ? 0 : hits / (double) lookups;
        }
    }

    /**
     * One value-log file.
     *
     * @param discardBytes bytes of values whose pointers compaction has dropped (an estimate of garbage)
     * @param active       whether new values are appended to it (GC never collects it)
     */
    public record ValueLogFile(long fileId, long bytes, long discardBytes, boolean active) {
    }

    /** Total bytes of value-log files. */
    public long valueLogBytes() {
        long total = 0;
        for (ValueLogFile f : valueLogFiles) {
            total += f.bytes();
        }
        return total;
    }

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

    /** A plain-text report: one line per non-empty or targeted level, then the counters. */
    public String format() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%-6s %8s %12s %12s%n", "level", "tables", "size", "target"));
        for (LevelStats level : levels) {
            if (level.tables() == 0 && level.targetBytes() == 0) {
                continue;
            }
            out.append(String.format(Locale.ROOT, "%-6s %8d %12s %12s%n", "L" + level.level(), level.tables(),
                    humanBytes(level.bytes()), level.targetBytes() == 0 ? "-" : humanBytes(level.targetBytes())));
        }
        out.append(String.format(Locale.ROOT, "memtables %d (%s), last version %d%n", memtables,
                humanBytes(memtableBytes), lastVersion));
        out.append(String.format(Locale.ROOT, "writes %d in %d groups, WAL %s with %d fsyncs, stalls %d, slowdowns %d%n",
                batchesWritten, writeGroups, humanBytes(walBytes), walSyncs, writeStalls, writeSlowdowns));
        out.append(String.format(Locale.ROOT, "flushed %s; %s; write amplification %.2f%n", humanBytes(flushedBytes),
                compactionSummary(compactions, trivialMoves, compactionReadBytes, compactionWriteBytes),
                writeAmplification()));
        out.append(String.format(Locale.ROOT, "block cache: %s of %s, %d hits, %d misses (hit rate %.1f%%), %d evictions%n",
                humanBytes(blockCache.bytes()), humanBytes(blockCache.maximumBytes()), blockCache.hits(),
                blockCache.misses(), 100 * blockCache.hitRate(), blockCache.evictions()));
        out.append(String.format(Locale.ROOT, "index cache: %s of %s, %d hits, %d misses (hit rate %.1f%%), %d evictions%n",
                humanBytes(indexCache.bytes()), humanBytes(indexCache.maximumBytes()), indexCache.hits(),
                indexCache.misses(), 100 * indexCache.hitRate(), indexCache.evictions()));
        out.append(String.format(Locale.ROOT, "value log: %d files, %s%n", valueLogFiles.size(), humanBytes(valueLogBytes())));
        for (ValueLogFile f : valueLogFiles) {
            out.append(String.format(Locale.ROOT, "  %06d %12s, discarded %s (%.0f%%)%s%n", f.fileId(),
                    humanBytes(f.bytes()), humanBytes(f.discardBytes()),
                    f.bytes() == 0 ? 0.0 : 100.0 * f.discardBytes() / f.bytes(), f.active() ? ", active" : ""));
        }
        return out.toString();
    }

    /**
     * Compaction work in words, merges and trivial moves apart: {@code 3 compactions read 12.0 MiB
     * and wrote 11.8 MiB, 2 trivial moves}; {@code no compactions, 2 trivial moves} when every step
     * was a move; {@code no compactions} when there was none.
     *
     * @param readBytes    bytes of tables the compactions read
     * @param writtenBytes bytes of tables the compactions wrote
     */
    public static String compactionSummary(long compactions, long trivialMoves, long readBytes, long writtenBytes) {
        String merges = compactions == 0 ? "no compactions" : compactions + (compactions == 1 ? " compaction" : " compactions")
                + " read " + humanBytes(readBytes) + " and wrote " + humanBytes(writtenBytes);
        return trivialMoves == 0 ? merges
                : merges + ", " + trivialMoves + (trivialMoves == 1 ? " trivial move" : " trivial moves");
    }

    private static String humanBytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
