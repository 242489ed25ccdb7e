package io.trainkv.util;

import java.nio.ByteBuffer;
import java.util.Arrays;

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

    /**
     * As {@link #seek}, except that an iterator able to prove cheaply that it holds no version of
     * {@code userKey} (a bloom filter) may put the seek off: it then reports {@link #valid()},
     * stands on a placeholder key just past every version of {@code userKey} in its direction
     * (version 0 forward, {@code Long.MAX_VALUE} reverse, which no write carries), and must get
     * {@link #resolveSeek()} before anything but {@link #keyBuffer()}, {@link #keyLength()} and
     * {@link #close()}. Every entry it holds from the seek on lies past the placeholder, so a merge
     * resolves it only when the placeholder reaches the front. The default seeks at once.
     */
    default void seekOrDefer(byte[] userKey, long version) {
        seek(userKey, version);
    }

    /**
     * A forward seek to {@code (userKey, version)} that a merge asks of an older source once a
     * newer source already stands on {@code (userKey, newerVersion)}: what this source holds from
     * the seek on is versions of {@code userKey} below {@code newerVersion} (sources of an LSM
     * tree hold a key's newer versions in its newer sources), a copy of {@code newerVersion}
     * itself (while a flush installs its table) and later keys, so it may put the seek off behind
     * the placeholder of {@link #seekOrDefer} whatever it holds, and resolve it as a seek to
     * {@code (userKey, newerVersion - 1)}, past the copy. Its older versions then sort before the
     * placeholder, but after every entry the merge emits first (the newer sources' versions of
     * the key), so the merge still resolves the seek in time. The default behaves as
     * {@link #seekOrDefer}.
     */
    default void deferSeekBehindNewerVersion(byte[] userKey, long version, long newerVersion) {
        seekOrDefer(userKey, version);
    }

    /** Whether the iterator is valid and stands on a version of {@code userKey}. */
    default boolean standsOn(byte[] userKey) {
        return valid() && keyLength() - KeyFormat.VERSION_SIZE == userKey.length
                && Arrays.equals(keyBuffer(), 0, userKey.length, userKey, 0, userKey.length);
    }

    /** Whether the last {@link #seekOrDefer} was put off and not yet resolved. */
    default boolean seekDeferred() {
        return false;
    }

    /** Carries out a deferred seek; afterwards the iterator stands where {@link #seek} would have put it. */
    default void resolveSeek() {
    }

    /** Moves one entry on in the iterator's direction. Requires {@link #valid()}, as in LevelDB. */
    void next();

    /** The current internal key (user key ‖ version); valid up to {@link #keyLength()} until the iterator moves. */
    byte[] keyBuffer();

    int keyLength();

    /** The current entry's version, meta, expiry and value, decoded into new objects. */
    ValueStruct value();

    /**
     * The buffer holding the current entry's value in the value encoding ({@link ValueStruct}: a
     * header of 1 to {@link ValueStruct#MAX_HEADER_SIZE} bytes, then the value bytes) at
     * {@link #valueOffset()}, {@link #valueSize()} bytes long: a
     * view that callers read with absolute gets and do not change, valid until the iterator moves.
     * Lets a reader test meta and expiry, and copy the value once, without {@link #value()}'s
     * allocations. The default encodes {@link #value()} into a new buffer.
     */
    default ByteBuffer valueBuffer() {
        return value().encoded();
    }

    /** Where the current entry's encoded value starts in {@link #valueBuffer()} (bytes). */
    default int valueOffset() {
        return 0;
    }

    /**
     * Bytes of the current entry's encoded value, header included.
     *
     * @throws io.trainkv.CorruptionException if the stored value is not a value encoding (unknown
     *     flag bits, or shorter than its header)
     */
    default int valueSize() {
        return value().encodedSize();
    }

    /** Releases what the iterator holds; the default holds nothing. */
    @Override
    default void close() {
    }
}
