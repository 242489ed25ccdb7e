package io.trainkv.compaction;

import io.trainkv.manifest.TableMeta;
import io.trainkv.sstable.OutputCuts;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts a compaction's output tables by the tables of the level below the output level (the
 * grandparent level), so that each output table later compacts down cheaply. Exists because a
 * table cut by size alone overlaps whatever grandparent tables its range happens to cross: its own
 * later compaction then rewrites every one of them, and a grandparent table that straddles the
 * boundary of two output tables is rewritten by both. Before each new user key an output table
 * ends when
 * <ul>
 *   <li>it holds at least half the target file size and the new key is the first to reach into a
 *       grandparent table it does not overlap yet: the next table starts at that grandparent table,
 *       so the two share none and output boundaries line up with grandparent boundaries (past the
 *       target size a table keeps growing to such a boundary, up to {@link #MAX_STRETCH} times the
 *       target; with no boundary left ahead, as at the bottom level, it ends at the target);</li>
 *   <li>the grandparent bytes it would overlap exceed {@link #MAX_OVERLAP_FILES} times the target
 *       file size, which bounds the cost of its own later compaction (LevelDB's rule); or</li>
 *   <li>the gap between its last key and the new key holds whole grandparent tables of at least an
 *       eighth of the target file size, which its range would cover without holding any of their
 *       keys (cut there, both sides may later move down without rewriting them).</li>
 * </ul>
 * Not thread-safe.
 */
final class GrandparentCuts implements OutputCuts {

    /** LevelDB's bound: an output table overlaps at most this many target-sized grandparent tables' bytes. */
    static final int MAX_OVERLAP_FILES = 10;

    /** An output table grows past the target file size to reach a grandparent boundary up to this many times it. */
    static final int MAX_STRETCH = 2;

    private final List<TableMeta> grandparents;
    /** prefixBytes[i]: bytes of grandparents[0, i). */
    private final long[] prefixBytes;
    private final long targetFileSize;
    private final long maxTableBytes;
    private final long maxOverlapBytes;
    private final long minGapBytes;
    private final long minAlignedTableBytes;
    /** Grandparent tables before this index lie entirely below the last key seen (passed <= reached). */
    private int passed;
    /** Grandparent tables before this index start at or below the last key seen. */
    private int reached;
    /** {@link #reached} for the last key added to the open table. */
    private int tableReached;
    /** Grandparent bytes the open table overlaps. */
    private long overlapBytes;

    /**
     * @param grandparents the tables of the level below the output level, in key order (they do not overlap)
     * @param targetFileSize the compaction's target output size (bytes)
     */
    GrandparentCuts(List<TableMeta> grandparents, long targetFileSize) {
        this.grandparents = List.copyOf(grandparents);
        this.prefixBytes = new long[grandparents.size() + 1];
        for (int i = 0; i < grandparents.size(); i++) {
            prefixBytes[i + 1] = prefixBytes[i] + grandparents.get(i).fileSize();
        }
        this.targetFileSize = targetFileSize;
        this.maxTableBytes = MAX_STRETCH * targetFileSize;
        this.maxOverlapBytes = MAX_OVERLAP_FILES * targetFileSize;
        this.minGapBytes = targetFileSize / 8;
        this.minAlignedTableBytes = targetFileSize / 2;
    }

    @Override
    public boolean cutBefore(byte[] key, int userKeyLength, long openTableBytes) {
        advance(key, userKeyLength);
        if (openTableBytes >= maxTableBytes) {
            return true;
        }
        if (reached == tableReached) { // the key reaches no grandparent table the open table does not overlap yet
            return openTableBytes >= targetFileSize && reached == grandparents.size();
        }
        return openTableBytes >= minAlignedTableBytes
                || overlapBytes + bytes(tableReached, reached) > maxOverlapBytes
                || bytes(tableReached, Math.max(tableReached, passed)) >= minGapBytes;
    }

    @Override
    public void added(byte[] key, int userKeyLength, boolean startsTable) {
        advance(key, userKeyLength);
        overlapBytes = startsTable ? bytes(passed, reached) : overlapBytes + bytes(tableReached, reached);
        tableReached = reached;
    }

    /** Moves {@link #passed} and {@link #reached} up to the user key {@code key[0, userKeyLength)}. */
    private void advance(byte[] key, int userKeyLength) {
        while (passed < grandparents.size() && compare(grandparents.get(passed).largestUserKey(), key, userKeyLength) < 0) {
            passed++;
        }
        while (reached < grandparents.size()
                && compare(grandparents.get(reached).smallestUserKey(), key, userKeyLength) <= 0) {
            reached++;
        }
    }

    private long bytes(int from, int to) {
        return prefixBytes[to] - prefixBytes[from];
    }

    /** Unsigned order of user keys, as {@link io.trainkv.util.Bytes#compare}. */
    private static int compare(byte[] userKey, byte[] key, int userKeyLength) {
        return Arrays.compareUnsigned(userKey, 0, userKey.length, key, 0, userKeyLength);
    }
}
