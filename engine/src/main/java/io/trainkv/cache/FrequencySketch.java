package io.trainkv.cache;

import java.util.Arrays;

/**
 * A count-min sketch of 4-bit counters estimating how often each key was seen recently, fronted
 * by a doorkeeper bloom filter, the admission filter of TinyLFU (Einziger, Friedman and Manes,
 * "TinyLFU: A Highly Efficient Cache Admission Policy", ACM Transactions on Storage, 2017).
 *
 * <p>The table has one long (sixteen 4-bit counters) per expected entry, as in Caffeine; a
 * quarter of that width cost about 0.7 percentage points of hit rate on small caches in the trace
 * simulator. Each key maps to one counter in each of {@value #DEPTH} rows, chosen by independent
 * hashes (the key's hash re-mixed with a different odd constant per row, so rows do not collide
 * together). The estimate is the minimum of the four counters. Counters saturate at 15.
 *
 * <p>Doorkeeper: the first sighting of a key only sets its doorkeeper bits, so one-hit wonders
 * never reach the counters; the doorkeeper adds one to the estimate of keys it holds. The
 * doorkeeper has one bit beside each counter, and a key's doorkeeper bits are the bits beside its
 * {@value #DEPTH} counters (a bloom filter of four probes that reuses the counters' hashes).
 *
 * <p>Aging: after {@code sampleSize} (ten times the expected number of entries) recorded
 * sightings every counter is halved, so that old popularity fades. The doorkeeper is folded into
 * the counters first: a counter whose doorkeeper bit is set is halved as if it held one more, and
 * only then is the doorkeeper cleared. So a key's estimate (counters plus doorkeeper) is halved as
 * a whole, as a counters-only sketch's would be: a key seen twice keeps an estimate of one, a key
 * seen once drops to zero. The earlier doorkeeper (a separate filter of 4 bits per long, two
 * probes) was simply cleared while the counters were halved, so a key seen twice fell to zero and
 * lost its duel against any once-counted probation victim.
 *
 * <p>Measured on the ARC traces of {@code scripts/bench-cache} with the cache's climber (hit %;
 * OLTP at 250 / 1,000 / 5,000 / 20,000 entries, P12 at 10,000 / 50,000; the last column is the
 * mean of TrainKV minus the better of LRU and Caffeine over the six rows, Caffeine's figures from
 * the table in {@code docs/benchmarks.md}):
 * <pre>
 *   doorkeeper folded at reset (this)          25.62 41.31 55.65 68.27  8.67 23.68   +0.79
 *   no doorkeeper (counters only)              25.69 41.20 55.64 67.69  8.43 24.02   +0.71
 *   doorkeeper cleared at reset, not folded    25.00 40.94 55.21 68.09  8.25 23.55   +0.43
 * </pre>
 * Folding removes the cleared doorkeeper's cost (0.6 points at OLTP 250, 0.4 at P12 10,000) and
 * is level with a counters-only sketch on the ARC rows (within 0.6 points either way, 0.08 better
 * on average); on the synthetic traces of {@code scripts/bench-cache --synthetic} it is level or
 * better on every row (up to 0.9 points, on the shifting hot set at 5,000 entries). It is kept for
 * what the doorkeeper is for in TinyLFU: keys seen once never touch the counters, so they cannot
 * inflate the estimates of keys that share their counters. Its price is memory: one bit per
 * counter, a quarter of the table's size (the first doorkeeper, a separate filter, was a
 * sixteenth, and small enough to fill up within one sample on traffic with many new keys).
 */
final class FrequencySketch {

    static final int DEPTH = 4;
    private static final long[] SEEDS = {0x9E3779B97F4A7C15L, 0xC2B2AE3D27D4EB4FL, 0x165667B19E3779F9L,
        0xD6E8FEB86659FD93L};
    private static final long RESET_MASK = 0x7777_7777_7777_7777L;
    private static final long LOW_BITS = 0x1111_1111_1111_1111L;
    private static final int MAX_COUNT = 15;

    private final long[] table;
    private final int tableMask;
    /** Bit {@code 16 * i + n} sits beside counter {@code n} of {@code table[i]}. */
    private final long[] doorkeeper;
    private final int sampleSize;
    private int additions;

    /** A sketch sized for about {@code expectedEntries} distinct hot keys. */
    FrequencySketch(long expectedEntries) {
        int longs = ceilingPowerOfTwo((int) Math.max(64, Math.min(1 << 26, expectedEntries)));
        this.table = new long[longs];
        this.tableMask = longs - 1;
        this.doorkeeper = new long[longs / 4];
        this.sampleSize = (int) Math.min(Integer.MAX_VALUE / 2, 10L * Math.max(16, expectedEntries));
    }

    /** The estimated recent frequency of the key with this hash, 0 to 16. */
    int frequency(int hash) {
        int min = MAX_COUNT;
        boolean inDoorkeeper = true;
        for (int row = 0; row < DEPTH; row++) {
            int slot = slot(hash, row);
            min = Math.min(min, (int) ((table[slot >>> 4] >>> ((slot & 15) << 2)) & 0xfL));
            inDoorkeeper &= (doorkeeper[slot >>> 6] & (1L << slot)) != 0;
        }
        return min + (inDoorkeeper ? 1 : 0);
    }

    /**
     * TinyLFU's admission duel: whether a candidate (the key with {@code candidateHash}) was seen
     * more often recently than the victim it would displace; a tie keeps the victim.
     */
    boolean admits(int candidateHash, int victimHash) {
        return frequency(candidateHash) > frequency(victimHash);
    }

    /** Records a sighting of the key with this hash. */
    void increment(int hash) {
        int slot0 = slot(hash, 0);
        int slot1 = slot(hash, 1);
        int slot2 = slot(hash, 2);
        int slot3 = slot(hash, 3);
        boolean inDoorkeeper = doorkeeperPut(slot0) & doorkeeperPut(slot1) & doorkeeperPut(slot2)
                & doorkeeperPut(slot3);
        if (inDoorkeeper) {
            incrementCounter(slot0);
            incrementCounter(slot1);
            incrementCounter(slot2);
            incrementCounter(slot3);
        }
        if (++additions >= sampleSize) {
            reset();
        }
    }

    /** Sets one doorkeeper bit; returns whether it was set already. */
    private boolean doorkeeperPut(int slot) {
        long mask = 1L << slot;
        long word = doorkeeper[slot >>> 6];
        doorkeeper[slot >>> 6] = word | mask;
        return (word & mask) != 0;
    }

    private void incrementCounter(int slot) {
        int shift = (slot & 15) << 2;
        if (((table[slot >>> 4] >>> shift) & 0xfL) != MAX_COUNT) {
            table[slot >>> 4] += 1L << shift;
        }
    }

    /**
     * Halves every counter, counting its doorkeeper bit as one more ({@code (c + bit) / 2}, which
     * is {@code c / 2 + (c & bit & 1)} and so never exceeds 8), then clears the doorkeeper.
     */
    void reset() {
        for (int i = 0; i < table.length; i++) {
            long bits = (doorkeeper[i >>> 2] >>> ((i & 3) << 4)) & 0xffffL;
            table[i] = ((table[i] >>> 1) & RESET_MASK) + (table[i] & spread(bits));
        }
        Arrays.fill(doorkeeper, 0);
        additions /= 2;
    }

    /** Whether the doorkeeper has seen the key (it has no false negatives). */
    boolean doorkeeperContains(int hash) {
        for (int row = 0; row < DEPTH; row++) {
            int slot = slot(hash, row);
            if ((doorkeeper[slot >>> 6] & (1L << slot)) == 0) {
                return false;
            }
        }
        return true;
    }

    /** The key's counter in one row, as {@code 16 * long index + counter index} (also its doorkeeper bit). */
    private int slot(int hash, int row) {
        long h = mix(hash, row);
        return ((int) (h >>> 32) & tableMask) << 4 | ((int) h & 15);
    }

    /** Moves bit n of a 16-bit value to bit 4n, the low bit of counter n. */
    private static long spread(long bits) {
        long x = bits;
        x = (x | (x << 24)) & 0x0000_00FF_0000_00FFL;
        x = (x | (x << 12)) & 0x000F_000F_000F_000FL;
        x = (x | (x << 6)) & 0x0303_0303_0303_0303L;
        x = (x | (x << 3)) & LOW_BITS;
        return x;
    }

    /** The hash re-mixed for one row: an independent 64-bit hash per row (fmix64 of hash × seed). */
    private static long mix(int hash, int row) {
        long h = (hash + SEEDS[row % SEEDS.length] * (row / SEEDS.length + 1)) * 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    private static int ceilingPowerOfTwo(int x) {
        return 1 << (32 - Integer.numberOfLeadingZeros(x - 1));
    }
}
