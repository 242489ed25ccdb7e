package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A batch keeps one operation per key, the last, whether it finds repeats by scanning or by its map. */
class WriteBatchTest {

    private static byte[] key(int i) {
        return ("key-" + i).getBytes();
    }

    @Test
    void theLastOperationOnAKeyWinsInSmallAndLargeBatches() {
        for (int keys : new int[] {1, 2, 8, 9, 40}) {
            WriteBatch batch = new WriteBatch();
            WriteBatch expected = new WriteBatch();
            for (int i = 0; i < keys; i++) {
                batch.set(key(i), ("first-" + i).getBytes());
            }
            for (int i = 0; i < keys; i += 3) {
                batch.set(key(i), ("second-" + i).getBytes());
            }
            batch.delete(key(keys - 1));
            for (int i = 0; i < keys; i++) {
                if (i == keys - 1) {
                    expected.delete(key(i));
                } else {
                    expected.set(key(i), ((i % 3 == 0 ? "second-" : "first-") + i).getBytes());
                }
            }
            assertEquals(keys, batch.size(), "one operation per key, " + keys + " keys");
            for (int i = 0; i < keys; i++) {
                assertArrayEquals(key(i), batch.entry(i).key(), "first-seen order is kept");
                assertArrayEquals(expected.entry(i).value(), batch.entry(i).value(), "key " + i + " of " + keys);
                assertEquals(i == keys - 1, batch.isTombstone(i), "key " + i + " of " + keys);
            }
            assertEquals(expected.memtableFootprint(), batch.memtableFootprint(), "replaced operations are not counted");
        }
    }

    @Test
    void aClearedBatchForgetsItsKeys() {
        WriteBatch batch = new WriteBatch();
        for (int i = 0; i < 20; i++) {
            batch.set(key(i), new byte[] {1});
        }
        batch.clear();
        assertTrue(batch.isEmpty());
        batch.set(key(5), new byte[] {2});
        batch.set(key(6), new byte[] {3});
        assertEquals(2, batch.size());
        assertFalse(batch.isTombstone(0));
        assertArrayEquals(new byte[] {2}, batch.entry(0).value());
    }
}
