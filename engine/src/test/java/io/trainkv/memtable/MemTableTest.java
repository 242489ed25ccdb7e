package io.trainkv.memtable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.util.Bytes;
import io.trainkv.util.InternalIterator;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The arena skip list memtable: versioned point reads, entry encoding, iterator order and seeks, large values and concurrency. */
class MemTableTest {

    private static final byte NONE = 0;
    private static final long NEVER = ValueStruct.NO_EXPIRY;
    private static final int SMALL_CHUNK_BITS = 12;

    private ExecutorService executor;

    /** What the model expects at one internal key. */
    private record Expected(byte meta, byte userMeta, long expiresAt, byte[] value) {
    }

    @AfterEach
    void stopThreads() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    private static byte[] b(String s) {
        return Bytes.utf8(s);
    }

    private static boolean put(MemTable table, String key, long version, String value) {
        return table.put(b(key), version, NONE, NONE, NEVER, b(value));
    }

    private static void assertValue(String expected, long expectedVersion, ValueStruct actual) {
        assertNotNull(actual, "expected " + expected + "@" + expectedVersion + " but found nothing");
        assertEquals(expected, new String(actual.value(), StandardCharsets.UTF_8));
        assertEquals(expectedVersion, actual.version());
    }

    @Test
    void anEmptyMemTableHasNothing() {
        MemTable table = new MemTable(7);
        assertEquals(7, table.walNumber());
        assertNull(table.get(b("k"), Long.MAX_VALUE));
        assertNull(table.get(new byte[0], Long.MAX_VALUE));
        assertTrue(table.isEmpty());
        for (boolean reverse : new boolean[] {false, true}) {
            InternalIterator it = table.iterator(reverse);
            assertFalse(it.valid(), "a new iterator is not positioned");
            it.seekToFirst();
            assertFalse(it.valid());
            InternalIterator seeker = table.iterator(reverse);
            seeker.seek(new byte[0], Long.MAX_VALUE);
            assertFalse(seeker.valid());
            seeker.seek(b("k"), 0);
            assertFalse(seeker.valid());
        }
    }

    @Test
    void getReturnsTheNewestVersionAtOrBelowTheReadVersion() {
        MemTable table = new MemTable(1);
        assertTrue(put(table, "k", 20, "v20"));
        assertTrue(put(table, "k", 10, "v10"));
        assertTrue(put(table, "k", 30, "v30"));
        assertValue("v30", 30, table.get(b("k"), Long.MAX_VALUE));
        assertValue("v30", 30, table.get(b("k"), KeyFormat.MAX_VERSION));
        assertValue("v30", 30, table.get(b("k"), 30));
        assertValue("v20", 20, table.get(b("k"), 29));
        assertValue("v20", 20, table.get(b("k"), 20));
        assertValue("v10", 10, table.get(b("k"), 19));
        assertValue("v10", 10, table.get(b("k"), 10));
        assertNull(table.get(b("k"), 9), "only newer versions exist");
        assertNull(table.get(b("k"), 0));
    }

    @Test
    void getOfAnotherKeyFindsNothing() {
        MemTable table = new MemTable(1);
        put(table, "abc", 5, "x");
        put(table, "abd", 5, "y");
        put(table, "b", 5, "z");
        assertNull(table.get(b("ab"), Long.MAX_VALUE), "a proper prefix of a stored key");
        assertNull(table.get(b("a"), Long.MAX_VALUE));
        assertNull(table.get(new byte[0], Long.MAX_VALUE));
        assertNull(table.get(b("abcd"), Long.MAX_VALUE), "a key that has a stored key as prefix");
        assertNull(table.get(b("abc\0"), Long.MAX_VALUE));
        assertNull(table.get(b("abcc"), Long.MAX_VALUE));
        assertNull(table.get(b("c"), Long.MAX_VALUE), "after the last key");
        assertValue("x", 5, table.get(b("abc"), Long.MAX_VALUE));
        assertValue("y", 5, table.get(b("abd"), Long.MAX_VALUE));
        assertValue("z", 5, table.get(b("b"), Long.MAX_VALUE));
    }

    @Test
    void aShorterKeyWithOldVersionsIsNotShadowedByALongerKey() {
        MemTable table = new MemTable(1);
        assertTrue(table.put(b("a"), 1, NONE, NONE, NEVER, b("a1")));
        assertTrue(table.put(b("ab"), 0x7f00000000000000L, NONE, NONE, NEVER, b("ab-high")));
        assertTrue(table.put(b("ab"), 1, NONE, NONE, NEVER, b("ab1")));
        assertValue("a1", 1, table.get(b("a"), Long.MAX_VALUE));
        assertValue("ab-high", 0x7f00000000000000L, table.get(b("ab"), Long.MAX_VALUE));
        assertValue("ab1", 1, table.get(b("ab"), 2));
        InternalIterator it = table.iterator(false);
        it.seekToFirst();
        assertTrue(it.valid());
        assertArrayEquals(b("a"), userKey(it));
        it.next();
        assertTrue(it.valid());
        assertArrayEquals(b("ab"), userKey(it));
        assertEquals(0x7f00000000000000L, version(it));
        assertEquals(0x7f00000000000000L, it.value().version());
        it.next();
        assertTrue(it.valid());
        assertEquals(1, version(it));
        assertEquals(1, it.value().version());
        it.next();
        assertFalse(it.valid());

        InternalIterator back = table.iterator(true);
        back.seekToFirst();
        assertTrue(back.valid());
        assertArrayEquals(b("ab"), userKey(back));
        assertEquals(1, version(back));
        back.next();
        assertTrue(back.valid());
        assertEquals(0x7f00000000000000L, version(back));
        back.next();
        assertTrue(back.valid());
        assertArrayEquals(b("a"), userKey(back));
        assertEquals(1, back.value().version());
        back.next();
        assertFalse(back.valid());
    }

    @Test
    void metaUserMetaAndExpiryRoundTrip() {
        MemTable table = new MemTable(1);
        table.put(b("dead"), 9, ValueStruct.META_TOMBSTONE, (byte) 0xAB, 1_700_000_000_123L, new byte[0]);
        table.put(b("live"), 9, NONE, (byte) 0x7F, Long.MAX_VALUE, new byte[] {0, (byte) 0xff, 1});
        table.put(b("flags"), 9, (byte) ValueStruct.META_BITS, (byte) 0x80, -1L, b("v"));
        assertThrows(IllegalArgumentException.class, () -> table.put(b("bad"), 9, (byte) 0x08, NONE, NEVER, b("v")),
                "a meta byte with a bit the value encoding uses for its own flags");
        assertNull(table.get(b("bad"), 9));

        ValueStruct dead = table.get(b("dead"), 9);
        assertTrue(dead.isTombstone());
        assertEquals(ValueStruct.META_TOMBSTONE, dead.meta());
        assertEquals((byte) 0xAB, dead.userMeta());
        assertEquals(1_700_000_000_123L, dead.expiresAtMillis());
        assertEquals(9, dead.version());
        assertArrayEquals(new byte[0], dead.value());
        assertTrue(dead.isExpiredAt(1_700_000_000_123L));
        assertFalse(dead.isExpiredAt(1_700_000_000_122L));

        ValueStruct live = table.get(b("live"), 9);
        assertFalse(live.isTombstone());
        assertEquals(NONE, live.meta());
        assertEquals((byte) 0x7F, live.userMeta());
        assertEquals(Long.MAX_VALUE, live.expiresAtMillis());
        assertArrayEquals(new byte[] {0, (byte) 0xff, 1}, live.value());

        ValueStruct flags = table.get(b("flags"), 9);
        assertEquals((byte) ValueStruct.META_BITS, flags.meta());
        assertTrue(flags.isTombstone() && flags.isValuePointer() && flags.isMoved());
        assertEquals((byte) 0x80, flags.userMeta());
        assertEquals(-1L, flags.expiresAtMillis());
    }

    @Test
    void noExpiryNeverExpires() {
        MemTable table = new MemTable(1);
        table.put(b("k"), 1, NONE, NONE, ValueStruct.NO_EXPIRY, b("v"));
        assertFalse(table.get(b("k"), 1).isExpiredAt(Long.MAX_VALUE));
    }

    @Test
    void emptyKeysAndValuesAreStored() {
        MemTable table = new MemTable(1);
        assertTrue(table.put(new byte[0], 3, NONE, NONE, NEVER, new byte[0]));
        assertTrue(table.put(new byte[] {0}, 3, NONE, NONE, NEVER, b("zero")));
        assertValue("", 3, table.get(new byte[0], 3));
        assertValue("zero", 3, table.get(new byte[] {0}, 3));
        InternalIterator it = table.iterator(false);
        it.seekToFirst();
        assertTrue(it.valid());
        assertArrayEquals(new byte[0], userKey(it));
        assertArrayEquals(new byte[0], it.value().value());
        it.next();
        assertTrue(it.valid());
        assertArrayEquals(new byte[] {0}, userKey(it));
        it.next();
        assertFalse(it.valid());
        InternalIterator back = table.iterator(true);
        back.seek(new byte[0], 3);
        assertTrue(back.valid(), "reverse seek to the empty key lands on it");
        assertArrayEquals(new byte[0], userKey(back));
        back.next();
        assertFalse(back.valid());
    }

    @Test
    void aDuplicateKeyAndVersionIsRefusedAndKeepsTheFirstValue() {
        MemTable table = new MemTable(1);
        assertTrue(put(table, "k", 5, "first"));
        assertFalse(put(table, "k", 5, "second"));
        assertFalse(table.put(b("k"), 5, ValueStruct.META_TOMBSTONE, NONE, NEVER, new byte[0]));
        assertTrue(put(table, "k", 6, "newer"));
        assertTrue(put(table, "k", 4, "older"));
        assertValue("first", 5, table.get(b("k"), 5));
        assertFalse(table.get(b("k"), 5).isTombstone());
        assertEquals(3, count(table));
    }

    @Test
    void storedValuesAreCopies() {
        MemTable table = new MemTable(1);
        byte[] key = b("key");
        byte[] value = b("value");
        table.put(key, 1, NONE, NONE, NEVER, value);
        key[0] = 'X';
        value[0] = 'X';
        ValueStruct read = table.get(b("key"), 1);
        assertValue("value", 1, read);
        read.value()[0] = 'Y';
        assertValue("value", 1, table.get(b("key"), 1));
    }

    @Test
    void sizeGrowsWithinTheAdvertisedFootprint() {
        MemTable table = new MemTable(1);
        long before = table.sizeBytes();
        assertTrue(before > 0, "the head node takes arena space");
        Random random = new Random(0x5EED_2001L);
        for (int i = 0; i < 1_000; i++) {
            byte[] key = new byte[random.nextInt(40)];
            byte[] value = new byte[random.nextInt(500)];
            long start = table.sizeBytes();
            assertTrue(table.put(key, i + 1, NONE, NONE, NEVER, value));
            long grew = table.sizeBytes() - start;
            assertTrue(grew >= KeyFormat.VERSION_SIZE + 1 + key.length + value.length,
                    "an entry takes at least its key and value bytes");
            assertTrue(grew <= MemTable.maxEntryFootprint(key.length, value.length),
                    "entry took " + grew + " bytes, more than maxEntryFootprint");
        }
    }

    @ParameterizedTest(name = "reverse: {0}")
    @ValueSource(booleans = {false, true})
    void anIteratorStaysInvalidAfterTheEnd(boolean reverse) {
        MemTable table = new MemTable(1);
        put(table, "a", 1, "x");
        InternalIterator it = table.iterator(reverse);
        it.seekToFirst();
        assertTrue(it.valid());
        it.next();
        assertFalse(it.valid());
        assertFalse(it.valid(), "an iterator past the end must stay at the end");
        put(table, "b", 1, "y");
        put(table, "0", 1, "z");
        assertFalse(it.valid(), "an insert after the end does not revive an exhausted iterator");
    }

    @Test
    void aSeekPastTheEndIsInvalid() {
        MemTable table = new MemTable(1);
        put(table, "a", 1, "x");
        InternalIterator it = table.iterator(false);
        it.seek(b("b"), Long.MAX_VALUE);
        assertFalse(it.valid(), "a seek past the last entry is invalid");
        assertFalse(it.valid());
        it.seek(b("a"), 0);
        assertFalse(it.valid(), "a seek past the oldest version of the last key is invalid");
        InternalIterator back = table.iterator(true);
        back.seek(b("a"), Long.MAX_VALUE);
        assertFalse(back.valid(), "a reverse seek before the first entry is invalid");
        back.seek(new byte[0], 0);
        assertFalse(back.valid());
    }

    @Test
    void iteratorAndGetMatchATreeMapModel() {
        MemTable table = new MemTable(1);
        TreeMap<byte[], Expected> model = new TreeMap<>(KeyFormat::compare);
        Random random = new Random(0x5EED_2002L);
        List<byte[]> userKeys = randomUserKeys(random, 5_000);
        int inserted = 0;
        while (inserted < 50_000) {
            byte[] userKey = userKeys.get(random.nextInt(userKeys.size()));
            long version = 1 + random.nextInt(1_000);
            byte meta = random.nextInt(10) == 0 ? ValueStruct.META_TOMBSTONE : NONE;
            byte userMeta = (byte) random.nextInt(256);
            long expiresAt = random.nextInt(4) == 0 ? random.nextLong() : NEVER;
            byte[] value = new byte[meta == NONE ? random.nextInt(48) : 0];
            random.nextBytes(value);
            byte[] internalKey = KeyFormat.encode(userKey, version);
            boolean fresh = !model.containsKey(internalKey);
            assertEquals(fresh, table.put(userKey, version, meta, userMeta, expiresAt, value),
                    () -> "put of " + Bytes.escape(userKey) + "@" + version);
            if (fresh) {
                model.put(internalKey, new Expected(meta, userMeta, expiresAt, value));
                inserted++;
            }
        }

        InternalIterator it = table.iterator(false);
        it.seekToFirst();
        int walked = 0;
        for (Map.Entry<byte[], Expected> entry : model.entrySet()) {
            assertTrue(it.valid(), "iterator ended after " + walked + " of " + model.size() + " entries");
            assertEntry(entry, it);
            it.next();
            walked++;
        }
        assertFalse(it.valid(), "iterator has more entries than the model");

        for (int i = 0; i < 20_000; i++) {
            byte[] userKey = random.nextInt(10) == 0 ? randomUserKey(random) : userKeys.get(random.nextInt(userKeys.size()));
            long readVersion = random.nextInt(20) == 0 ? Long.MAX_VALUE : random.nextInt(1_100);
            Map.Entry<byte[], Expected> ceiling = model.ceilingEntry(KeyFormat.encode(userKey, readVersion));
            ValueStruct actual = table.get(userKey, readVersion);
            if (ceiling == null || !Arrays.equals(KeyFormat.userKey(ceiling.getKey()), userKey)) {
                assertNull(actual, () -> "get " + Bytes.escape(userKey) + "@" + readVersion);
            } else {
                assertNotNull(actual, () -> "get " + Bytes.escape(userKey) + "@" + readVersion);
                assertEquals(KeyFormat.version(ceiling.getKey()), actual.version());
                assertExpected(ceiling.getValue(), actual);
            }
        }

        for (int i = 0; i < 2_000; i++) {
            byte[] userKey = random.nextBoolean() ? randomUserKey(random) : userKeys.get(random.nextInt(userKeys.size()));
            long version = random.nextInt(1_100);
            InternalIterator seeker = table.iterator(false);
            seeker.seek(userKey, version);
            Iterator<Map.Entry<byte[], Expected>> tail =
                    model.tailMap(KeyFormat.encode(userKey, version), true).entrySet().iterator();
            assertEquals(tail.hasNext(), seeker.valid(), () -> "seek " + Bytes.escape(userKey) + "@" + version);
            if (seeker.valid()) {
                assertEntry(tail.next(), seeker);
                for (int step = 0; step < 5 && tail.hasNext(); step++) {
                    seeker.next();
                    assertTrue(seeker.valid());
                    assertEntry(tail.next(), seeker);
                }
            }
        }
    }

    /**
     * Inserts through the last-insert hint in every pattern it must handle: ascending runs (the
     * hint brackets at level 0), descending runs, jumps back and forth, repeats of the last key
     * and version and of the entry right after it (refused), and new versions of the key just
     * written; the contents must match
     * the model exactly, by iteration and by point reads.
     */
    @Test
    void insertsThroughTheSequentialHintMatchATreeMapModel() {
        MemTable table = new MemTable(1, SMALL_CHUNK_BITS);
        TreeMap<byte[], Expected> model = new TreeMap<>(KeyFormat::compare);
        Random random = new Random(0x5EED_2003L);
        for (int run = 0; run < 400; run++) {
            long start = random.nextInt(1_000_000);
            int length = 1 + random.nextInt(200);
            int direction = random.nextInt(4) == 0 ? -1 : 1;
            for (int i = 0; i < length; i++) {
                byte[] userKey = ByteBuffer.allocate(8).putLong(start + (long) direction * i).array();
                long version = 1 + random.nextInt(3);
                byte[] value = ByteBuffer.allocate(12).putLong(start).putInt(i).array();
                byte[] internalKey = KeyFormat.encode(userKey, version);
                boolean fresh = !model.containsKey(internalKey);
                assertEquals(fresh, table.put(userKey, version, NONE, NONE, NEVER, value),
                        () -> "put of " + Bytes.escape(userKey) + "@" + version);
                if (fresh) {
                    model.put(internalKey, new Expected(NONE, NONE, NEVER, value));
                }
                byte[] successor = model.higherKey(internalKey);
                if (successor != null) {
                    assertFalse(table.put(KeyFormat.userKey(successor), KeyFormat.version(successor), NONE, NONE, NEVER,
                            value), "a repeat of the entry right after the last put is refused");
                }
                assertFalse(table.put(userKey, version, NONE, NONE, NEVER, value), "a repeat of the last put is refused");
            }
        }
        InternalIterator it = table.iterator(false);
        it.seekToFirst();
        for (Map.Entry<byte[], Expected> entry : model.entrySet()) {
            assertTrue(it.valid(), "iterator ended early");
            assertEntry(entry, it);
            it.next();
        }
        assertFalse(it.valid(), "iterator has more entries than the model");
        for (Map.Entry<byte[], Expected> entry : model.entrySet()) {
            byte[] userKey = KeyFormat.userKey(entry.getKey());
            long version = KeyFormat.version(entry.getKey());
            ValueStruct read = table.get(userKey, version);
            assertNotNull(read, () -> "get " + Bytes.escape(userKey) + "@" + version);
            assertEquals(version, read.version());
            assertArrayEquals(entry.getValue().value(), read.value());
        }
    }

    @Test
    void seekPositionsAtTheFirstEntryAtOrAfterTheTarget() {
        MemTable table = new MemTable(1);
        put(table, "b", 5, "b5");
        put(table, "b", 3, "b3");
        put(table, "d", 7, "d7");
        InternalIterator it = table.iterator(false);
        it.seek(b("a"), 1);
        assertTrue(it.valid());
        assertArrayEquals(b("b"), userKey(it));
        assertEquals(5, it.value().version());
        it.seek(b("b"), 4);
        assertTrue(it.valid());
        assertEquals(3, it.value().version());
        it.seek(b("b"), 2);
        assertTrue(it.valid(), "past the oldest version of b comes the next key");
        assertArrayEquals(b("d"), userKey(it));
        it.next();
        assertFalse(it.valid());
        it.seek(b("b"), Long.MAX_VALUE);
        assertTrue(it.valid(), "an iterator can seek backwards, even after reaching the end");
        assertEquals(5, it.value().version());
        it.next();
        assertTrue(it.valid());
        assertEquals(3, it.value().version());
        it.seek(b("d"), 6);
        assertFalse(it.valid());
    }

    @Test
    void valuesLargerThanAnArenaChunkRoundTrip() {
        MemTable table = new MemTable(1);
        Random random = new Random(0x5EED_2003L);
        int chunk = 1 << MemTable.DEFAULT_CHUNK_BITS;
        int[] sizes = {3 * chunk, chunk, chunk + 1, chunk - 1, 2 * chunk + 12_345};
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            byte[] value = new byte[sizes[i]];
            random.nextBytes(value);
            values.add(value);
            assertTrue(table.put(b("big" + i), 1, NONE, (byte) i, NEVER, value));
            assertTrue(put(table, "small" + i, 1, "s" + i));
        }
        assertTrue(table.sizeBytes() >= Arrays.stream(sizes).asLongStream().sum());
        for (int i = 0; i < sizes.length; i++) {
            ValueStruct read = table.get(b("big" + i), 1);
            assertArrayEquals(values.get(i), read.value(), "value of big" + i);
            assertEquals((byte) i, read.userMeta());
            assertValue("s" + i, 1, table.get(b("small" + i), 1));
        }
        InternalIterator it = table.iterator(false);
        it.seekToFirst();
        for (int i = 0; i < sizes.length; i++) {
            assertTrue(it.valid());
            assertArrayEquals(b("big" + i), userKey(it));
            assertArrayEquals(values.get(i), it.value().value());
            it.next();
        }
        for (int i = 0; i < sizes.length; i++) {
            assertTrue(it.valid());
            assertArrayEquals(b("small" + i), userKey(it));
            it.next();
        }
        assertFalse(it.valid());
    }

    @ParameterizedTest(name = "shuffled order: {0}")
    @ValueSource(booleans = {false, true})
    void concurrentInsertsOfDisjointKeysAreAllPresentInOrder(boolean shuffle) throws Exception {
        MemTable table = new MemTable(1, SMALL_CHUNK_BITS);
        int threads = 4;
        int perThread = 25_000;
        List<Callable<Void>> writers = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        for (int t = 0; t < threads; t++) {
            int thread = t;
            writers.add(() -> {
                List<Integer> order = order(perThread, shuffle, new Random(0x5EED_2100L + thread));
                start.await();
                for (int i : order) {
                    byte[] key = disjointKey(thread, i);
                    if (!table.put(key, 1 + i % 3, NONE, (byte) thread, NEVER, selfDescribingValue(key, 1 + i % 3))) {
                        throw new AssertionError("put of a fresh key returned false");
                    }
                }
                return null;
            });
        }
        runAll(writers, start);

        InternalIterator it = table.iterator(false);
        byte[] previous = null;
        int seen = 0;
        for (it.seekToFirst(); it.valid(); it.next()) {
            byte[] userKey = userKey(it);
            ValueStruct value = it.value();
            assertEquals(version(it), value.version());
            byte[] internal = KeyFormat.encode(userKey, value.version());
            if (previous != null) {
                assertTrue(KeyFormat.compare(previous, internal) < 0, "iterator order is not strictly ascending");
            }
            assertArrayEquals(selfDescribingValue(userKey, value.version()), value.value());
            previous = internal;
            seen++;
        }
        assertEquals(threads * perThread, seen);
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < perThread; i++) {
                byte[] key = disjointKey(t, i);
                ValueStruct value = table.get(key, Long.MAX_VALUE);
                assertNotNull(value, "key " + Bytes.escape(key) + " is missing");
                assertEquals(1 + i % 3, value.version());
                assertEquals((byte) t, value.userMeta());
            }
        }
    }

    @ParameterizedTest(name = "shuffled order: {0}")
    @ValueSource(booleans = {false, true})
    void concurrentInsertsOfTheSameKeysSucceedExactlyOnceEach(boolean shuffle) throws Exception {
        MemTable table = new MemTable(1, SMALL_CHUNK_BITS);
        int threads = 4;
        int keys = 10_000;
        AtomicInteger accepted = new AtomicInteger();
        List<Callable<Void>> writers = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        for (int t = 0; t < threads; t++) {
            int thread = t;
            writers.add(() -> {
                List<Integer> order = order(2 * keys, shuffle, new Random(0x5EED_2200L + thread));
                start.await();
                for (int i : order) {
                    byte[] key = disjointKey(0, i % keys);
                    long version = 1 + i / keys;
                    if (table.put(key, version, NONE, (byte) thread, NEVER, selfDescribingValue(key, version))) {
                        accepted.incrementAndGet();
                    }
                }
                return null;
            });
        }
        runAll(writers, start);
        assertEquals(2 * keys, accepted.get(), "each (key, version) must be accepted exactly once");
        assertEquals(2 * keys, count(table));
        List<byte[]> sortedKeys = new ArrayList<>();
        for (int i = 0; i < keys; i++) {
            sortedKeys.add(disjointKey(0, i));
        }
        sortedKeys.sort(Bytes::compare);
        InternalIterator it = table.iterator(false);
        it.seekToFirst();
        for (byte[] key : sortedKeys) {
            for (long version = 2; version >= 1; version--) {
                assertTrue(it.valid());
                assertArrayEquals(key, userKey(it));
                assertEquals(version, version(it));
                assertEquals(version, it.value().version());
                assertArrayEquals(selfDescribingValue(key, version), it.value().value());
                it.next();
            }
        }
        assertFalse(it.valid());
    }

    @Test
    void readersConcurrentWithAWriterSeeOrderedCompleteEntries() throws Exception {
        MemTable table = new MemTable(1, SMALL_CHUNK_BITS);
        int entries = 40_000;
        Random random = new Random(0x5EED_2300L);
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < entries; i++) {
            keys.add(randomUserKey(random));
        }
        AtomicInteger published = new AtomicInteger();
        AtomicBoolean writerDone = new AtomicBoolean();
        CountDownLatch start = new CountDownLatch(1);
        List<Callable<Void>> tasks = new ArrayList<>();
        tasks.add(() -> {
            start.await();
            try {
                for (int i = 0; i < entries; i++) {
                    byte[] key = keys.get(i);
                    long version = i + 1;
                    table.put(key, version, NONE, NONE, NEVER, selfDescribingValue(key, version));
                    published.set(i + 1);
                }
            } finally {
                writerDone.set(true);
            }
            return null;
        });
        for (int r = 0; r < 2; r++) {
            long seed = 0x5EED_2310L + r;
            tasks.add(() -> {
                Random readerRandom = new Random(seed);
                start.await();
                boolean last = false;
                while (!last) {
                    last = writerDone.get();
                    int visible = published.get();
                    int walked = walkAndCheck(table);
                    if (walked < visible) {
                        throw new AssertionError("iterator saw " + walked + " entries, " + visible + " were published");
                    }
                    for (int probe = 0; probe < 2_000; probe++) {
                        int inFlight = Math.min(published.get(), entries - 1);
                        checkIfPresent(table, keys.get(inFlight), inFlight + 1);
                    }
                    for (int probe = 0; probe < 200 && visible > 0; probe++) {
                        int i = readerRandom.nextInt(visible);
                        byte[] key = keys.get(i);
                        ValueStruct value = table.get(key, i + 1);
                        if (value == null) {
                            throw new AssertionError("published key " + Bytes.escape(key) + "@" + (i + 1) + " not found");
                        }
                        if (!Arrays.equals(selfDescribingValue(key, value.version()), value.value())) {
                            throw new AssertionError("value of " + Bytes.escape(key) + " is not the one written");
                        }
                    }
                }
                return null;
            });
        }
        runAll(tasks, start);
        assertEquals(entries, walkAndCheck(table));
    }

    /** Reads a key that may be in the middle of being inserted; whatever is visible must be complete. */
    private static void checkIfPresent(MemTable table, byte[] key, long version) {
        ValueStruct value = table.get(key, version);
        if (value != null && !Arrays.equals(selfDescribingValue(key, value.version()), value.value())) {
            throw new AssertionError("partially written value at " + Bytes.escape(key) + "@" + value.version());
        }
    }

    /** Walks every entry, checking strict order and that each value is the one its key implies. */
    private static int walkAndCheck(MemTable table) {
        InternalIterator it = table.iterator(false);
        byte[] previous = null;
        int seen = 0;
        for (it.seekToFirst(); it.valid(); it.next()) {
            byte[] internal = internalKey(it);
            byte[] userKey = KeyFormat.userKey(internal);
            ValueStruct value = it.value();
            if (value.version() != KeyFormat.version(internal)) {
                throw new AssertionError("key and value disagree on the version at " + Bytes.escape(userKey));
            }
            if (previous != null && KeyFormat.compare(previous, internal) >= 0) {
                throw new AssertionError("order broken at " + Bytes.escape(userKey) + "@" + value.version());
            }
            if (!Arrays.equals(selfDescribingValue(userKey, value.version()), value.value())) {
                throw new AssertionError("partial or foreign value at " + Bytes.escape(userKey) + "@" + value.version());
            }
            previous = internal;
            seen++;
        }
        return seen;
    }

    /** A value derived from its key and version, with a length that varies and sometimes exceeds a small chunk. */
    private static byte[] selfDescribingValue(byte[] userKey, long version) {
        int hash = Arrays.hashCode(userKey) * 31 + Long.hashCode(version);
        int length = (hash & 0xff) == 0 ? 5_000 + (hash >>> 24) : (hash >>> 8) & 0xff;
        ByteBuffer value = ByteBuffer.allocate(4 + userKey.length + 8 + length);
        value.putInt(userKey.length).put(userKey).putLong(version);
        while (value.hasRemaining()) {
            value.put((byte) (hash + value.position()));
        }
        return value.array();
    }

    /** Key {@code i} of a writer thread; the keys of different threads interleave, so writers meet at the same nodes. */
    private static byte[] disjointKey(int thread, int i) {
        return ByteBuffer.allocate(6).put((byte) 'k').putInt(i).put((byte) thread).array();
    }

    /** The indexes 0..n-1, ascending (every writer works at the tail of the list) or shuffled. */
    private static List<Integer> order(int n, boolean shuffle, Random random) {
        List<Integer> order = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        if (shuffle) {
            Collections.shuffle(order, random);
        }
        return order;
    }

    private void runAll(List<Callable<Void>> tasks, CountDownLatch start) throws Exception {
        executor = Executors.newFixedThreadPool(tasks.size());
        List<Future<Void>> futures = new ArrayList<>();
        for (Callable<Void> task : tasks) {
            futures.add(executor.submit(task));
        }
        start.countDown();
        for (Future<Void> future : futures) {
            future.get();
        }
    }

    private static int count(MemTable table) {
        InternalIterator it = table.iterator(false);
        int n = 0;
        for (it.seekToFirst(); it.valid(); it.next()) {
            n++;
        }
        return n;
    }

    /** The iterator's current internal key, copied. */
    private static byte[] internalKey(InternalIterator it) {
        return Arrays.copyOf(it.keyBuffer(), it.keyLength());
    }

    /** The iterator's current user key, copied. */
    private static byte[] userKey(InternalIterator it) {
        return KeyFormat.userKey(internalKey(it));
    }

    /** The version in the iterator's current internal key. */
    private static long version(InternalIterator it) {
        return KeyFormat.getVersion(it.keyBuffer(), it.keyLength() - KeyFormat.VERSION_SIZE);
    }

    private static void assertEntry(Map.Entry<byte[], Expected> expected, InternalIterator it) {
        byte[] internalKey = expected.getKey();
        assertArrayEquals(internalKey, internalKey(it));
        ValueStruct actual = it.value();
        assertEquals(KeyFormat.version(internalKey), actual.version());
        assertExpected(expected.getValue(), actual);
    }

    private static void assertExpected(Expected expected, ValueStruct actual) {
        assertEquals(expected.meta(), actual.meta());
        assertEquals(expected.userMeta(), actual.userMeta());
        assertEquals(expected.expiresAt(), actual.expiresAtMillis());
        assertArrayEquals(expected.value(), actual.value());
    }

    private static List<byte[]> randomUserKeys(Random random, int count) {
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            keys.add(randomUserKey(random));
        }
        return keys;
    }

    private static byte[] randomUserKey(Random random) {
        int[] alphabet = {0x00, 0x01, 'a', 'b', 'c', 0x7f, 0x80, 0xff};
        byte[] key = new byte[random.nextInt(12)];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) alphabet[random.nextInt(alphabet.length)];
        }
        return key;
    }
}
