package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

    @Test
    void aBatchOfOneOperationIsVisitedAndReplacedLikeAnyOther() {
        List<String> visited = new ArrayList<>();
        WriteBatch.Visitor visitor = new WriteBatch.Visitor() {
            @Override
            public void set(Entry entry) {
                visited.add("set " + new String(entry.key()) + "=" + entry.valueAsString());
            }

            @Override
            public void delete(byte[] key) {
                visited.add("delete " + new String(key));
            }
        };
        WriteBatch batch = new WriteBatch().set("a", "1");
        batch.forEach(visitor);
        batch.delete("a".getBytes());
        batch.forEach(visitor);
        batch.set("a", "2");
        assertEquals(1, batch.size());
        batch.set("b", "3"); // the single operation moves to the arrays
        batch.forEach(visitor);
        batch.clear();
        batch.delete("c".getBytes());
        batch.forEach(visitor);
        assertEquals(List.of("set a=1", "delete a", "set a=2", "set b=3", "delete c"), visited);
        assertEquals(new WriteBatch().delete("c".getBytes()).memtableFootprint(), batch.memtableFootprint());
    }

    /**
     * A first operation added as a key and value is held as its parts (the write path makes no
     * {@link Entry} for it) and reads back the same through every accessor, as an entry on
     * demand, after an entry with a TTL replaces it, and once a second key moves it to the arrays.
     */
    @Test
    void aFirstOperationHeldAsPartsReadsBackLikeAnEntry() {
        WriteBatch batch = new WriteBatch().set(key(1), "one".getBytes());
        assertArrayEquals(key(1), batch.key(0));
        assertArrayEquals("one".getBytes(), batch.value(0));
        assertEquals(0, batch.userMeta(0));
        assertFalse(batch.hasTtl(0));
        assertEquals(0, batch.expiresAtMillis(0, 1_000));
        Entry made = batch.entry(0);
        assertArrayEquals(key(1), made.key());
        assertArrayEquals("one".getBytes(), made.value());
        assertNull(made.ttl());

        Entry withTtl = Entry.of(key(1), "two".getBytes()).withTtl(Duration.ofSeconds(5)).withUserMeta((byte) 7);
        batch.set(withTtl);
        assertEquals(1, batch.size());
        assertArrayEquals("two".getBytes(), batch.value(0));
        assertEquals(7, batch.userMeta(0));
        assertTrue(batch.hasTtl(0));
        assertEquals(6_000, batch.expiresAtMillis(0, 1_000));
        assertSame(withTtl, batch.entry(0), "an operation added as an entry is that entry");

        batch.set(key(1), "three".getBytes()); // replaced by parts again: the TTL goes with the entry
        assertFalse(batch.hasTtl(0));
        assertEquals(0, batch.userMeta(0));
        batch.set(key(2), "four".getBytes()); // the first operation moves to the arrays
        assertEquals(2, batch.size());
        assertArrayEquals("three".getBytes(), batch.value(0));
        assertArrayEquals("three".getBytes(), batch.entry(0).value());
        assertArrayEquals(key(2), batch.key(1));
        assertArrayEquals("four".getBytes(), batch.entry(1).value());
        assertFalse(batch.hasTtl(0) || batch.hasTtl(1));
        WriteBatch expected = new WriteBatch().set(Entry.of(key(1), "three".getBytes())).set(Entry.of(key(2), "four".getBytes()));
        assertEquals(expected.memtableFootprint(), batch.memtableFootprint(), "replaced parts are not counted");
    }

    /**
     * The neighbours of the first operation held as parts: a delete first, a delete replacing a
     * set held as parts, a batch cleared after its arrays grew and reused, a visit, and a TTL
     * whose expiry overflows.
     */
    @Test
    void deletesClearsVisitsAndOverflowsOfAFirstOperationHeldAsParts() {
        WriteBatch batch = new WriteBatch().delete(key(1));
        assertTrue(batch.isTombstone(0));
        assertEquals(0, batch.value(0).length);
        assertEquals(0, batch.entry(0).value().length);

        WriteBatch replaced = new WriteBatch().set(key(1), new byte[100]).delete(key(1));
        assertEquals(1, replaced.size());
        assertTrue(replaced.isTombstone(0));
        assertEquals(batch.memtableFootprint(), replaced.memtableFootprint(), "the replaced set is not counted");

        WriteBatch reused = new WriteBatch();
        for (int i = 0; i < 12; i++) { // past the linear scan: arrays and a map
            reused.set(key(i), new byte[] {(byte) i});
        }
        reused.clear();
        reused.set(key(3), "again".getBytes());
        assertEquals(1, reused.size());
        assertArrayEquals(key(3), reused.key(0));
        assertArrayEquals("again".getBytes(), reused.entry(0).value());
        assertFalse(reused.isTombstone(0));
        assertEquals(new WriteBatch().set(key(3), "again".getBytes()).memtableFootprint(), reused.memtableFootprint());
        reused.set(key(4), "more".getBytes());
        assertArrayEquals(key(3), reused.key(0), "the cleared arrays hold nothing of before");
        assertArrayEquals(key(4), reused.key(1));

        List<String> visited = new ArrayList<>();
        new WriteBatch().set(key(7), "seven".getBytes()).forEach(new WriteBatch.Visitor() {
            @Override
            public void set(Entry entry) {
                visited.add(new String(entry.key()) + "=" + entry.valueAsString() + " ttl " + entry.ttl());
            }

            @Override
            public void delete(byte[] key) {
                visited.add("delete " + new String(key));
            }
        });
        assertEquals(List.of("key-7=seven ttl null"), visited);

        WriteBatch withTtl = new WriteBatch().set(Entry.of(key(1), new byte[1]).withTtl(Duration.ofDays(1)));
        IllegalArgumentException overflow = assertThrows(IllegalArgumentException.class,
                () -> withTtl.expiresAtMillis(0, Long.MAX_VALUE - 1_000));
        assertTrue(overflow.getMessage().contains("ttl too large"), overflow.getMessage());
    }
}
