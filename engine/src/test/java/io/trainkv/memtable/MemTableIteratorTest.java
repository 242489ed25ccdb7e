package io.trainkv.memtable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.util.Bytes;
import io.trainkv.util.InternalIterator;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
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

/** The memtable's InternalIterator in both directions: walks and seeks against a TreeMap model, empty tables, concurrent inserts. */
class MemTableIteratorTest {

    private static final byte NONE = 0;
    private static final long NEVER = ValueStruct.NO_EXPIRY;
    private static final int SMALL_CHUNK_BITS = 12;

    private ExecutorService executor;

    /** What the model expects at one internal key. */
    private record Expected(byte meta, byte userMeta, long expiresAt, byte[] value) {
    }

    /** A memtable and the model of what it holds, ordered by internal key. */
    private record Filled(MemTable table, TreeMap<byte[], Expected> model, List<byte[]> userKeys, List<byte[]> storedKeys) {
    }

    @AfterEach
    void stopThreads() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    @Test
    void reverseIterationMatchesTheModelWalkedDescending() {
        Filled filled = fill(0x5EED_3001L, 20_000);
        InternalIterator it = filled.table().iterator(true);
        it.seekToFirst();
        int walked = 0;
        for (Map.Entry<byte[], Expected> entry : filled.model().descendingMap().entrySet()) {
            assertTrue(it.valid(), "reverse iterator ended after " + walked + " of " + filled.model().size());
            assertEntry(entry, it);
            it.next();
            walked++;
        }
        assertFalse(it.valid(), "reverse iterator has more entries than the model");
        assertFalse(it.valid());
    }

    @Test
    void forwardIterationMatchesTheModelWalkedAscending() {
        Filled filled = fill(0x5EED_3002L, 20_000);
        InternalIterator it = filled.table().iterator(false);
        it.seekToFirst();
        for (Map.Entry<byte[], Expected> entry : filled.model().entrySet()) {
            assertTrue(it.valid());
            assertEntry(entry, it);
            it.next();
        }
        assertFalse(it.valid());
    }

    @Test
    void reverseSeekLandsOnTheFloorKeyThenWalksDescending() {
        Filled filled = fill(0x5EED_3003L, 20_000);
        TreeMap<byte[], Expected> model = filled.model();
        Random random = new Random(0x5EED_3013L);
        InternalIterator reused = filled.table().iterator(true);
        for (int i = 0; i < 4_000; i++) {
            byte[] target = seekTarget(random, filled);
            byte[] userKey = KeyFormat.userKey(target);
            long version = KeyFormat.version(target);
            InternalIterator it = i % 2 == 0 ? reused : filled.table().iterator(true);
            it.seek(userKey, version);
            String what = "reverse seek " + Bytes.escape(userKey) + "@" + version;
            byte[] floor = model.floorKey(target);
            assertEquals(floor != null, it.valid(), what);
            if (floor == null) {
                continue;
            }
            assertArrayEquals(floor, internalKey(it), what);
            Iterator<Map.Entry<byte[], Expected>> expected = model.headMap(target, true).descendingMap().entrySet().iterator();
            assertEntry(expected.next(), it);
            for (int step = 0; step < 8; step++) {
                it.next();
                if (!expected.hasNext()) {
                    assertFalse(it.valid(), what + ": walked past the first entry");
                    break;
                }
                assertTrue(it.valid(), what);
                assertEntry(expected.next(), it);
            }
        }
    }

    @Test
    void forwardSeekLandsOnTheCeilingKeyThenWalksAscending() {
        Filled filled = fill(0x5EED_3004L, 20_000);
        TreeMap<byte[], Expected> model = filled.model();
        Random random = new Random(0x5EED_3014L);
        InternalIterator reused = filled.table().iterator(false);
        for (int i = 0; i < 4_000; i++) {
            byte[] target = seekTarget(random, filled);
            byte[] userKey = KeyFormat.userKey(target);
            long version = KeyFormat.version(target);
            InternalIterator it = i % 2 == 0 ? reused : filled.table().iterator(false);
            it.seek(userKey, version);
            String what = "forward seek " + Bytes.escape(userKey) + "@" + version;
            byte[] ceiling = model.ceilingKey(target);
            assertEquals(ceiling != null, it.valid(), what);
            if (ceiling == null) {
                continue;
            }
            assertArrayEquals(ceiling, internalKey(it), what);
            Iterator<Map.Entry<byte[], Expected>> expected = model.tailMap(target, true).entrySet().iterator();
            assertEntry(expected.next(), it);
            for (int step = 0; step < 8; step++) {
                it.next();
                if (!expected.hasNext()) {
                    assertFalse(it.valid(), what + ": walked past the last entry");
                    break;
                }
                assertTrue(it.valid(), what);
                assertEntry(expected.next(), it);
            }
        }
    }

    @Test
    void reverseSeekBetweenVersionsLandsOnTheNewerVersion() {
        MemTable table = new MemTable(1);
        put(table, "k", 30);
        put(table, "k", 20);
        put(table, "k", 10);
        put(table, "m", 5);
        InternalIterator it = table.iterator(true);
        it.seek(b("k"), 25);
        assertTrue(it.valid());
        assertArrayEquals(KeyFormat.encode(b("k"), 30), internalKey(it), "k@30 sorts before k@25");
        it.seek(b("k"), 20);
        assertArrayEquals(KeyFormat.encode(b("k"), 20), internalKey(it), "an exact hit");
        it.next();
        assertArrayEquals(KeyFormat.encode(b("k"), 30), internalKey(it));
        it.next();
        assertFalse(it.valid());
        it.seek(b("k"), 31);
        assertFalse(it.valid(), "nothing sorts before k@31");
        it.seek(b("l"), Long.MAX_VALUE);
        assertArrayEquals(KeyFormat.encode(b("k"), 10), internalKey(it), "between keys: the oldest version of the key before");
        it.seek(b("z"), 1);
        assertArrayEquals(KeyFormat.encode(b("m"), 5), internalKey(it), "after everything: the last entry");
    }

    @ParameterizedTest(name = "reverse: {0}")
    @ValueSource(booleans = {false, true})
    void anEmptyMemTableIsInvalidInBothDirections(boolean reverse) {
        MemTable table = new MemTable(1);
        InternalIterator it = table.iterator(reverse);
        assertFalse(it.valid());
        it.seekToFirst();
        assertFalse(it.valid());
        it.seek(new byte[0], Long.MAX_VALUE);
        assertFalse(it.valid());
        it.seek(new byte[0], 0);
        assertFalse(it.valid());
        it.seek(b("k"), 5);
        assertFalse(it.valid());
        it.close();
    }

    @ParameterizedTest(name = "reverse: {0}")
    @ValueSource(booleans = {false, true})
    void keysLongerThanTheIteratorsBufferAreReturnedWhole(boolean reverse) {
        MemTable table = new MemTable(1);
        Random random = new Random(0x5EED_3005L);
        TreeMap<byte[], Expected> model = new TreeMap<>(KeyFormat::compare);
        for (int i = 0; i < 300; i++) {
            byte[] userKey = new byte[random.nextInt(3) == 0 ? random.nextInt(5) : 60 + random.nextInt(1_000)];
            random.nextBytes(userKey);
            long version = 1 + random.nextInt(3);
            byte[] value = new byte[random.nextInt(20)];
            random.nextBytes(value);
            if (table.put(userKey, version, NONE, NONE, NEVER, value)) {
                model.put(KeyFormat.encode(userKey, version), new Expected(NONE, NONE, NEVER, value));
            }
        }
        InternalIterator it = table.iterator(reverse);
        it.seekToFirst();
        for (Map.Entry<byte[], Expected> entry : (reverse ? model.descendingMap() : model).entrySet()) {
            assertTrue(it.valid());
            assertEntry(entry, it);
            it.next();
        }
        assertFalse(it.valid());
    }

    @Test
    void reverseIterationWhileAnotherThreadInsertsNeverGoesOutOfOrder() throws Exception {
        MemTable table = new MemTable(1, SMALL_CHUNK_BITS);
        int entries = 30_000;
        Random random = new Random(0x5EED_3006L);
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
            long seed = 0x5EED_3016L + r;
            tasks.add(() -> {
                Random readerRandom = new Random(seed);
                start.await();
                boolean last = false;
                while (!last) {
                    last = writerDone.get();
                    int visible = published.get();
                    int walked = walkBackwardAndCheck(table, null);
                    if (walked < visible) {
                        throw new AssertionError("reverse walk saw " + walked + " entries, " + visible + " were published");
                    }
                    for (int probe = 0; probe < 50 && visible > 0; probe++) {
                        byte[] key = keys.get(readerRandom.nextInt(visible));
                        walkBackwardAndCheck(table, KeyFormat.encode(key, readerRandom.nextInt(entries + 1)));
                    }
                }
                return null;
            });
        }
        runAll(tasks, start);
        assertEquals(entries, walkBackwardAndCheck(table, null));
    }

    /**
     * Walks backwards from the last entry (or, given a target, from a reverse seek to it for a few
     * hundred steps), checking strictly descending order and that each value is the one its key implies.
     */
    private static int walkBackwardAndCheck(MemTable table, byte[] target) {
        InternalIterator it = table.iterator(true);
        int limit = Integer.MAX_VALUE;
        if (target == null) {
            it.seekToFirst();
        } else {
            it.seek(KeyFormat.userKey(target), KeyFormat.version(target));
            if (it.valid() && KeyFormat.compare(internalKey(it), target) > 0) {
                throw new AssertionError("reverse seek to " + Bytes.escape(target) + " landed after it");
            }
            limit = 300;
        }
        byte[] previous = null;
        int seen = 0;
        for (; it.valid() && seen < limit; it.next()) {
            byte[] internal = internalKey(it);
            byte[] userKey = KeyFormat.userKey(internal);
            ValueStruct value = it.value();
            if (value.version() != KeyFormat.version(internal)) {
                throw new AssertionError("key and value disagree on the version at " + Bytes.escape(userKey));
            }
            if (previous != null && KeyFormat.compare(previous, internal) <= 0) {
                throw new AssertionError("reverse order broken at " + Bytes.escape(userKey) + "@" + value.version()
                        + " after " + Bytes.escape(previous));
            }
            if (!Arrays.equals(selfDescribingValue(userKey, value.version()), value.value())) {
                throw new AssertionError("partial or foreign value at " + Bytes.escape(userKey) + "@" + value.version());
            }
            previous = internal;
            seen++;
        }
        return seen;
    }

    /** Inserts {@code count} distinct random entries, several versions per user key, into a fresh memtable and its model. */
    private static Filled fill(long seed, int count) {
        MemTable table = new MemTable(1);
        TreeMap<byte[], Expected> model = new TreeMap<>(KeyFormat::compare);
        Random random = new Random(seed);
        List<byte[]> userKeys = new ArrayList<>();
        for (int i = 0; i < count / 5; i++) {
            userKeys.add(randomUserKey(random));
        }
        while (model.size() < count) {
            byte[] userKey = userKeys.get(random.nextInt(userKeys.size()));
            long version = 1 + random.nextInt(100);
            byte meta = random.nextInt(10) == 0 ? ValueStruct.META_TOMBSTONE : NONE;
            byte userMeta = (byte) random.nextInt(256);
            long expiresAt = random.nextInt(4) == 0 ? random.nextLong() : NEVER;
            byte[] value = new byte[meta == NONE ? random.nextInt(32) : 0];
            random.nextBytes(value);
            byte[] internalKey = KeyFormat.encode(userKey, version);
            boolean fresh = !model.containsKey(internalKey);
            assertEquals(fresh, table.put(userKey, version, meta, userMeta, expiresAt, value));
            if (fresh) {
                model.put(internalKey, new Expected(meta, userMeta, expiresAt, value));
            }
        }
        return new Filled(table, model, userKeys, new ArrayList<>(model.keySet()));
    }

    /** A seek target: a stored key exactly, a stored user key at a random version, or a random key. */
    private static byte[] seekTarget(Random random, Filled filled) {
        int kind = random.nextInt(4);
        if (kind == 0) {
            return filled.storedKeys().get(random.nextInt(filled.storedKeys().size()));
        }
        byte[] userKey = kind == 3 ? randomUserKey(random) : filled.userKeys().get(random.nextInt(filled.userKeys().size()));
        long version = random.nextInt(30) == 0 ? Long.MAX_VALUE : random.nextInt(110);
        return KeyFormat.encode(userKey, version);
    }

    private static byte[] b(String s) {
        return Bytes.utf8(s);
    }

    private static void put(MemTable table, String key, long version) {
        assertTrue(table.put(b(key), version, NONE, NONE, NEVER, b(key + version)));
    }

    /** The iterator's current internal key, copied. */
    private static byte[] internalKey(InternalIterator it) {
        return Arrays.copyOf(it.keyBuffer(), it.keyLength());
    }

    private static void assertEntry(Map.Entry<byte[], Expected> expected, InternalIterator it) {
        byte[] internalKey = expected.getKey();
        assertArrayEquals(internalKey, internalKey(it), () -> "expected " + shortly(internalKey)
                + " but at " + shortly(internalKey(it)));
        ValueStruct actual = it.value();
        assertEquals(KeyFormat.version(internalKey), actual.version());
        assertEquals(expected.getValue().meta(), actual.meta());
        assertEquals(expected.getValue().userMeta(), actual.userMeta());
        assertEquals(expected.getValue().expiresAt(), actual.expiresAtMillis());
        assertArrayEquals(expected.getValue().value(), actual.value());
    }

    /** A key for a failure message: escaped, long ones cut to their first bytes and version. */
    private static String shortly(byte[] internalKey) {
        if (internalKey.length <= 48) {
            return Bytes.escape(internalKey);
        }
        return Bytes.escape(Arrays.copyOf(internalKey, 32)) + "...(" + internalKey.length + " bytes)@"
                + KeyFormat.version(internalKey);
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

    private static byte[] randomUserKey(Random random) {
        int[] alphabet = {0x00, 0x01, 'a', 'b', 'c', 0x7f, 0x80, 0xff};
        byte[] key = new byte[random.nextInt(12)];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) alphabet[random.nextInt(alphabet.length)];
        }
        return key;
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
}
