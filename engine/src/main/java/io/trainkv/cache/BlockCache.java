package io.trainkv.cache;

import java.nio.ByteBuffer;

/**
 * The cache of table data blocks shared by every table of a database: checked block contents by
 * (table, offset), weighted by their size plus a fixed overhead. Blocks of a table are dropped
 * before the table is closed, so a cached view never outlives its mapping.
 */
public final class BlockCache {

    /** Bytes charged per entry on top of the block (key, node, map entry). */
    static final int ENTRY_OVERHEAD = 96;

    private final WTinyLfuCache<BlockKey, ByteBuffer> cache;

    public BlockCache(long maximumBytes, int blockSize) {
        this.cache = new WTinyLfuCache<>(maximumBytes, blockSize + ENTRY_OVERHEAD,
                (key, block) -> block.capacity() + ENTRY_OVERHEAD);
    }

    /** The cached block (a private view: position and limit are the caller's), or null. */
    public ByteBuffer get(long tableId, long offset) {
        ByteBuffer block = cache.get(new BlockKey(tableId, offset));
        return block == null ? null : block.duplicate();
    }

    public void put(long tableId, long offset, ByteBuffer block) {
        cache.put(new BlockKey(tableId, offset), block.duplicate());
    }

    /** Drops every block of a table. */
    public void invalidateTable(long tableId) {
        cache.invalidateIf(key -> key.tableId() == tableId);
    }

    public long hits() {
        return cache.hits();
    }

    public long misses() {
        return cache.misses();
    }

    public long evictions() {
        return cache.evictions();
    }

    public long weight() {
        return cache.weight();
    }

    public long maximum() {
        return cache.maximum();
    }
}
