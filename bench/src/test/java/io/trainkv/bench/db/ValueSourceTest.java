package io.trainkv.bench.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Values copied into a reused array are the values a fresh array would hold, in the same order. */
class ValueSourceTest {

    @Test
    void aReusedArrayGetsTheSameValuesAsFreshArrays() {
        ValueSource values = new ValueSource(100, 7);
        SplittableRandom fresh = new SplittableRandom(3);
        SplittableRandom reused = new SplittableRandom(3);
        byte[] into = values.newValueArray();
        for (int i = 0; i < 1_000; i++) {
            byte[] expected = values.next(fresh);
            assertSame(into, values.next(reused, into));
            assertArrayEquals(expected, into, "value " + i);
        }
    }
}
