package io.trainkv.memtable;

import io.trainkv.util.Hash;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A blocked bloom filter over the user keys of one memtable, so that a point read of a key the
 * memtable does not hold skips the skip-list descent (a cache miss per node visited). In a mixed
 * read/write workload most gets miss the memtable; RocksDB offers the same filter as
 * {@code memtable_whole_key_filtering}. Each key sets {@value #PROBES} bits inside one 64-bit word,
 * as in Putze, Sanders and Singler, "Cache-, Hash- and Space-Efficient Bloom Filters" (2007): a
 * check costs one memory access.
 *
 * <p>Keys are added before their node is linked into the skip list, with a volatile bitwise OR, so
 * a reader that can see a key's node (or a version published after its insert) also sees its bits:
 * the filter can answer "maybe" for an absent key, never "no" for a present one.
 *
 * <p>Size: one bit per 8 bytes of memtable capacity (1 MiB for a 64 MiB memtable), which keeps
 * false positives near 2% at one key per 64 bytes of memtable and well under 1% at the ~150 bytes
 * per entry of 100-byte values.
 */
final class MemTableFilter {

    /** Bits set per key, all in the key's word. */
    static final int PROBES = 6;
    private static final int SEED = 0x6d656d74;
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] words;

    /**
     * A filter for a memtable of {@code capacityBytes} (its size limit); at least 8 words.
     * A long array of 1 MiB less 16 bytes keeps the header inside one 1 MiB G1 region.
     */
    MemTableFilter(long capacityBytes) {
        long count = (capacityBytes >>> 9) - 2;
        this.words = new long[(int) Math.max(8, Math.min(count, Integer.MAX_VALUE - 8))];
    }

    /** Records {@code userKey}; safe against concurrent adds and checks. */
    void add(byte[] userKey) {
        int hash = Hash.murmur3(userKey, 0, userKey.length, SEED);
        WORDS.getAndBitwiseOr(words, wordIndex(hash), mask(hash));
    }

    /** False only if {@code userKey} was never {@linkplain #add added}. */
    boolean mightContain(byte[] userKey) {
        int hash = Hash.murmur3(userKey, 0, userKey.length, SEED);
        long mask = mask(hash);
        return ((long) WORDS.getAcquire(words, wordIndex(hash)) & mask) == mask;
    }

    /** Bytes this filter holds on the heap. */
    long sizeBytes() {
        return 8L * words.length;
    }

    private int wordIndex(int hash) {
        return (int) (((hash & 0xFFFFFFFFL) * words.length) >>> 32);
    }

    private static long mask(int hash) {
        long bits = hash * GOLDEN;
        long mask = 0;
        for (int i = 0; i < PROBES; i++) {
            mask |= 1L << (bits >>> (64 - 6 * (i + 1)));
        }
        return mask;
    }
}
