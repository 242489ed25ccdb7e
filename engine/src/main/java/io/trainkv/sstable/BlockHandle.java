package io.trainkv.sstable;

/**
 * Where a block lies in a table file, as the footer and the index record it: the offset of the
 * block's contents and their size, which does not count the 4-byte checksum after them.
 * Read-only; for inspection tools.
 */
public record BlockHandle(long offset, int size) {

    /** The offset just past the block's checksum, where the next block starts. */
    public long end() {
        return offset + size + TableFormat.BLOCK_TRAILER_SIZE;
    }
}
