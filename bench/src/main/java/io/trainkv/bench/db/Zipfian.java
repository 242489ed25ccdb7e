package io.trainkv.bench.db;

import java.util.SplittableRandom;

/**
 * Key indexes drawn from a Zipfian distribution with YCSB's default skew (0.99), scrambled so that
 * the popular keys are spread over the key space instead of being the smallest ones, as YCSB's
 * request distribution for workload A does. Draws use the method of Gray et al., "Quickly
 * generating billion-record synthetic databases" (SIGMOD 1994): one uniform number per draw after
 * an O(n) computation of the zeta constant. Immutable; each thread passes its own random stream.
 */
final class Zipfian {

    /** YCSB's default Zipfian constant. */
    static final double SKEW = 0.99;

    private final int items;
    private final double zetaN;
    private final double alpha;
    private final double eta;
    private final double halfPowSkew;

    Zipfian(int items) {
        this.items = items;
        this.zetaN = zeta(items);
        this.alpha = 1 / (1 - SKEW);
        this.eta = (1 - Math.pow(2.0 / items, 1 - SKEW)) / (1 - zeta(2) / zetaN);
        this.halfPowSkew = Math.pow(0.5, SKEW);
    }

    private static double zeta(int n) {
        double sum = 0;
        for (int i = 1; i <= n; i++) {
            sum += 1 / Math.pow(i, SKEW);
        }
        return sum;
    }

    /** A key index in [0, items): rank 0 is the most popular, and ranks map to indexes by a hash. */
    int next(SplittableRandom random) {
        double u = random.nextDouble();
        double uz = u * zetaN;
        long rank;
        if (uz < 1) {
            rank = 0;
        } else if (uz < 1 + halfPowSkew) {
            rank = 1;
        } else {
            rank = Math.min(items - 1, (long) (items * Math.pow(eta * u - eta + 1, alpha)));
        }
        return (int) Math.floorMod(KeySpace.mix(rank), (long) items);
    }
}
