package io.trainkv.bench.cache;

import java.util.Arrays;
import java.util.Random;
import java.util.function.IntSupplier;

/**
 * Deterministic key traces for the cache simulator: Zipf-distributed popularity, a Zipf hot set
 * interrupted by long sequential scans, a loop slightly larger than the cache, and a hot set that
 * moves. Each trace is a fresh supplier of int keys for a given seed.
 */
final class Traces {

    private Traces() {
    }

    /** Zipf(s) over {@code keys} keys: key k (1-based rank) drawn with probability ∝ 1/k^s. */
    static IntSupplier zipf(int keys, double s, long seed) {
        double[] cdf = new double[keys];
        double sum = 0;
        for (int k = 0; k < keys; k++) {
            sum += 1 / Math.pow(k + 1, s);
            cdf[k] = sum;
        }
        double total = sum;
        Random random = new Random(seed);
        int[] permutation = shuffled(keys, seed);
        return () -> {
            int rank = Arrays.binarySearch(cdf, random.nextDouble() * total);
            return permutation[rank < 0 ? -rank - 1 : rank];
        };
    }

    /** Zipf(0.9) traffic, broken every {@code every} accesses by a scan of {@code scanLength} never-reused keys. */
    static IntSupplier zipfWithScans(int keys, long seed, int every, int scanLength) {
        IntSupplier zipf = zipf(keys, 0.9, seed);
        int[] state = {0, 0, keys};
        return () -> {
            int position = state[0]++ % (every + scanLength);
            if (position < every) {
                return zipf.getAsInt();
            }
            return state[2]++;
        };
    }

    /** Keys 0, 1, ..., {@code length}-1, 0, 1, ... : a loop that LRU always misses when longer than the cache. */
    static IntSupplier loop(int length) {
        int[] next = {0};
        return () -> {
            int key = next[0];
            next[0] = (next[0] + 1) % length;
            return key;
        };
    }

    /** Zipf(0.9) over a hot set of {@code keys} keys that moves to fresh keys every {@code period} accesses. */
    static IntSupplier shifting(int keys, long seed, int period) {
        IntSupplier zipf = zipf(keys, 0.9, seed);
        int[] count = {0};
        return () -> {
            int phase = count[0]++ / period;
            return zipf.getAsInt() + phase * keys;
        };
    }

    private static int[] shuffled(int n, long seed) {
        int[] values = new int[n];
        for (int i = 0; i < n; i++) {
            values[i] = i;
        }
        Random random = new Random(seed ^ 0x5DEECE66DL);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = values[i];
            values[i] = values[j];
            values[j] = t;
        }
        return values;
    }
}
