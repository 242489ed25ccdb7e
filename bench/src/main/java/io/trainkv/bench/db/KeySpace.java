package io.trainkv.bench.db;

import java.util.SplittableRandom;

/**
 * The keys of a run, derived from the seed alone, so that every engine and every process sees
 * the same keys in the same order. Key {@code i} (0 ≤ i &lt; num) starts with {@code 2i} as a
 * big-endian long, which keeps index order and key order the same; the rest of the key is filler
 * mixed from the seed and {@code i}. The missing key {@code i} starts with {@code 2i + 1} instead,
 * so it sorts between present keys and is never written.
 */
final class KeySpace {

    /** Keys need room for the 8-byte index prefix. */
    static final int MIN_KEY_SIZE = 8;

    private final int num;
    private final int keySize;
    private final long seed;

    KeySpace(int num, int keySize, long seed) {
        if (keySize < MIN_KEY_SIZE) {
            throw new IllegalArgumentException("key size must be at least " + MIN_KEY_SIZE + " bytes, got " + keySize);
        }
        this.num = num;
        this.keySize = keySize;
        this.seed = seed;
    }

    int num() {
        return num;
    }

    /** Present key {@code i}. */
    byte[] key(int i) {
        return make(2L * i, i);
    }

    /** A key that sorts right after present key {@code i} and is never written. */
    byte[] missingKey(int i) {
        return make(2L * i + 1, i);
    }

    /** A uniformly random index in [0, num). */
    int randomIndex(SplittableRandom random) {
        return random.nextInt(num);
    }

    /** The key indexes in a random order fixed by the seed: fillrandom writes every key once. */
    int[] permutation() {
        int[] order = new int[num];
        for (int i = 0; i < num; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = num - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        return order;
    }

    /** The random stream of thread {@code stream} in {@code workload}: the same for every engine. */
    SplittableRandom random(Workload workload, int stream) {
        return new SplittableRandom(seed ^ mix((long) workload.ordinal() << 32 | stream));
    }

    private byte[] make(long prefix, int i) {
        byte[] key = new byte[keySize];
        for (int b = 0; b < 8; b++) {
            key[b] = (byte) (prefix >>> (56 - 8 * b));
        }
        long filler = mix(seed * 31 + i);
        for (int b = 8; b < keySize; b++) {
            key[b] = (byte) filler;
            filler = (filler >>> 8) | (filler << 56);
        }
        return key;
    }

    /** The SplitMix64 finalizer: spreads bits so that nearby inputs give unrelated outputs. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
