package io.trainkv.cache;

/** Names a cached block: the table's file number and the block's offset in it. */
public record BlockKey(long tableId, long offset) {
}
