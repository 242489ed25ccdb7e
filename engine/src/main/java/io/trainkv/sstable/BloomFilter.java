package io.trainkv.sstable;

import io.trainkv.util.Hash;

/**
 * The per-table bloom filter over user keys (not versions), so that a point read can skip a table
 * that cannot hold the key. Layout: {@code bits(ceil(m/8) bytes) ‖ probes(1)}; bit {@code i} is
 * bit {@code i % 8} of byte {@code i / 8}. Probes use double hashing from one Murmur3 hash
 * (Kirsch and Mitzenmacher, "Less hashing, same performance"): {@code h, h+δ, h+2δ, …} mod m with
 * {@code δ = rotr(h, 17)}. With 10 bits per key and 7 probes the false-positive rate is about 1%.
 */
final class BloomFilter {

    private static final int SEED = 0xbc9f1d34;
    private static final int MAX_PROBES = 30;
    private static final int MIN_BITS = 64;

    private BloomFilter() {
    }

    /** The hash a filter stores for {@code userKey}. */
    static int hash(byte[] key, int offset, int length) {
        return Hash.murmur3(key, offset, length, SEED);
    }

    /** Probes per key for a given density: {@code round(bitsPerKey · ln 2)}, within [1, 30]. */
    static int probes(int bitsPerKey) {
        return Math.max(1, Math.min(MAX_PROBES, (int) Math.round(bitsPerKey * 0.69)));
    }

    /** Bytes of the filter {@link #build} makes for {@code count} keys: the bits and the probe count. */
    static long size(long count, int bitsPerKey) {
        return (Math.max(MIN_BITS, count * bitsPerKey) + 7) / 8 + 1;
    }

    /**
     * Builds the filter bytes for the first {@code count} hashes.
     *
     * @throws IllegalArgumentException if the filter would not fit in a Java array
     */
    static byte[] build(int[] hashes, int count, int bitsPerKey) {
        int probes = probes(bitsPerKey);
        long size = size(count, bitsPerKey);
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("a filter for " + count + " keys at " + bitsPerKey
                    + " bits per key takes " + size + " bytes, more than an array holds");
        }
        int bytes = (int) size - 1;
        long bits = bytes * 8L;
        byte[] filter = new byte[bytes + 1];
        for (int i = 0; i < count; i++) {
            int h = hashes[i];
            int delta = Integer.rotateRight(h, 17);
            for (int p = 0; p < probes; p++) {
                long bit = Integer.toUnsignedLong(h) % bits;
                filter[(int) (bit >>> 3)] |= (byte) (1 << (bit & 7));
                h += delta;
            }
        }
        filter[bytes] = (byte) probes;
        return filter;
    }

    /** Whether the filter may contain a key with this hash; false means certainly not. */
    static boolean mayContain(byte[] filter, int hash) {
        if (filter.length < 2) {
            return true;
        }
        int bytes = filter.length - 1;
        int probes = filter[bytes];
        if (probes < 1 || probes > MAX_PROBES) {
            return true; // an unknown encoding: never answer "absent" wrongly
        }
        long bits = bytes * 8L;
        int h = hash;
        int delta = Integer.rotateRight(h, 17);
        for (int p = 0; p < probes; p++) {
            long bit = Integer.toUnsignedLong(h) % bits;
            if ((filter[(int) (bit >>> 3)] & (1 << (bit & 7))) == 0) {
                return false;
            }
            h += delta;
        }
        return true;
    }
}
