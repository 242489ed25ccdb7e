package io.trainkv.bench.db;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Random but reproducible values: slices at random offsets of one buffer of random bytes made
 * from the seed, so a run's values depend on the seed only and cost a copy, not a random number
 * per byte. The bytes are incompressible, so engines that compress gain nothing but CPU cost.
 */
final class ValueSource {

    private static final int MIN_BUFFER = 1 << 20;

    private final byte[] buffer;
    private final int valueSize;

    ValueSource(int valueSize, long seed) {
        this.valueSize = valueSize;
        this.buffer = new byte[Math.max(MIN_BUFFER, 2 * valueSize)];
        new SplittableRandom(seed).nextBytes(buffer);
    }

    /** A new value of the run's value size. */
    byte[] next(SplittableRandom random) {
        int offset = random.nextInt(buffer.length - valueSize + 1);
        return Arrays.copyOfRange(buffer, offset, offset + valueSize);
    }

    /** The next value (the same bytes {@link #next} would give) copied into {@code into}, which it returns. */
    byte[] next(SplittableRandom random, byte[] into) {
        int offset = random.nextInt(buffer.length - valueSize + 1);
        System.arraycopy(buffer, offset, into, 0, valueSize);
        return into;
    }

    /** An array for {@link #next(SplittableRandom, byte[])}. */
    byte[] newValueArray() {
        return new byte[valueSize];
    }
}
