package io.trainkv.util;

/**
 * A cursor over versioned entries in internal-key order, or in exactly the reverse order for a
 * reverse iterator (fixed when the iterator is made). Memtables, tables, levels and merges of them
 * all implement it, so the database iterator and compaction are written once.
 *
 * <p>"First", "next" and "seek" follow the iterator's direction: a reverse iterator's
 * {@link #seekToFirst()} goes to the last entry, {@link #next()} to the previous one, and
 * {@link #seek} to the last entry at or before the target. Not thread-safe.
 */
public interface InternalIterator extends AutoCloseable {

    boolean valid();

    void seekToFirst();

    /** Forward: first entry at or after {@code (userKey, version)}; reverse: last entry at or before it. */
    void seek(byte[] userKey, long version);

    /** Moves one entry on in the iterator's direction. Requires {@link #valid()}, as in LevelDB. */
    void next();

    /** The current internal key (user key ‖ version); valid up to {@link #keyLength()} until the iterator moves. */
    byte[] keyBuffer();

    int keyLength();

    /** The current entry's version, meta, expiry and value. */
    ValueStruct value();

    /** Releases what the iterator holds; the default holds nothing. */
    @Override
    default void close() {
    }
}
