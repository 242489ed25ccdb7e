package io.trainkv.memtable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.util.Bytes;
import io.trainkv.util.InternalIterator;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The memtable's key order where its 8-byte key prefix cannot decide alone: keys shorter than the
 * prefix (zero-padded, so "ab" and "ab\0" have the same prefix), the empty key, keys equal in
 * their first 8 bytes, 0x00/0x7F/0x80/0xFF bytes where a signed or little-endian prefix would
 * misorder, and many versions per key; sequential, shuffled and concurrent inserts, checked
 * against a TreeMap in {@link KeyFormat} order.
 */
class MemTableKeyPrefixTest {

    private static final byte NONE = 0;
    private static final long NEVER = ValueStruct.NO_EXPIRY;
    private static final int SMALL_CHUNK_BITS = 12;
    private static final long[] VERSIONS = {KeyFormat.MIN_VERSION, 2, 255, 256, 1L << 31, 1L << 32, KeyFormat.MAX_VERSION};

    private ExecutorService executor;

    /** One put of a concurrent writer. */
    private record Write(byte[] key, long version) {
    }

    @AfterEach
    void stopThreads() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    @Test
    void prefixIsTheFirstEightBytesBigEndianZeroPadded() {
        assertEquals(0L, prefix(new byte[0]));
        assertEquals(0L, prefix(new byte[] {0, 0, 0}));
        assertEquals(0xFF00_0000_0000_0000L, prefix(new byte[] {(byte) 0xFF}));
        assertEquals(0x0102_0300_0000_0000L, prefix(new byte[] {1, 2, 3}));
        assertEquals(0x0102_0304_0506_0708L, prefix(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
        assertEquals(0x8000_0000_0000_007FL, prefix(new byte[] {(byte) 0x80, 0, 0, 0, 0, 0, 0, 0x7F}));
        byte[] inBlock = {9, 9, 1, 2, 3, 9};
        assertEquals(0x0102_0300_0000_0000L, Bytes.keyPrefix(inBlock, 2, 3), "a key inside a longer array");
    }

    private static long prefix(byte[] userKey) {
        return Bytes.keyPrefix(userKey, 0, userKey.length);
    }

    /** Every key of {@link #prefixHeavyKeys()} at every version, inserted in several orders. */
    @ParameterizedTest(name = "order: {0}")
    @ValueSource(strings = {"ascending", "descending", "shuffled"})
    void keysThatTieOnThePrefixKeepKeyFormatOrder(String order) {
        List<byte[]> keys = prefixHeavyKeys();
        List<byte[]> internalKeys = new ArrayList<>();
        for (byte[] key : keys) {
            for (long version : VERSIONS) {
                internalKeys.add(KeyFormat.encode(key, version));
            }
        }
        internalKeys.sort(KeyFormat::compare);
        if (order.equals("descending")) {
            Collections.reverse(internalKeys);
        } else if (order.equals("shuffled")) {
            Collections.shuffle(internalKeys, new Random(0x5EED_4001L));
        }
        MemTable table = new MemTable(1, SMALL_CHUNK_BITS);
        TreeMap<byte[], byte[]> model = new TreeMap<>(KeyFormat::compare);
        for (byte[] internalKey : internalKeys) {
            byte[] userKey = KeyFormat.userKey(internalKey);
            long version = KeyFormat.version(internalKey);
            byte[] value = valueFor(internalKey);
            assertTrue(table.put(userKey, version, NONE, NONE, NEVER, value), () -> "put " + Bytes.escape(internalKey));
            assertFalse(table.put(userKey, version, NONE, NONE, NEVER, value), "a repeat is refused");
            model.put(internalKey, value);
        }
        assertWalks(table, model, false);
        assertWalks(table, model, true);
        assertReadsAndSeeks(table, model, keys);
    }

    /**
     * Several writers insert prefix-heavy keys (keys of their own that interleave in order with
     * the others', and the same user keys at versions of their own) while readers look up keys the
     * writers have published and walk the list: no published key is ever missed, and the order is
     * always strict.
     */
    @Test
    void concurrentInsertersAndReadersNeverMissAPublishedKey() throws Exception {
        int writers = 3;
        int rounds = 8;
        List<List<Write>> perWriter = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            List<Write> writes = new ArrayList<>();
            long version = 1 + w;
            for (int round = 0; round < rounds; round++) {
                for (byte[] key : prefixHeavyKeys()) {
                    writes.add(new Write(ByteBuffer.allocate(key.length + 1).put(key).put((byte) w).array(), version));
                    writes.add(new Write(key, version)); // the same user key from every writer
                    version += writers; // distinct from every other writer's versions
                }
            }
            Collections.shuffle(writes, new Random(0x5EED_4100L + w));
            perWriter.add(writes);
        }
        MemTable table = new MemTable(1, SMALL_CHUNK_BITS);
        AtomicIntegerArray published = new AtomicIntegerArray(writers);
        AtomicBoolean writing = new AtomicBoolean(true);
        CountDownLatch start = new CountDownLatch(1);
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            tasks.add(() -> {
                start.await();
                List<Write> writes = perWriter.get(writer);
                for (int i = 0; i < writes.size(); i++) {
                    byte[] key = writes.get(i).key();
                    long version = writes.get(i).version();
                    if (!table.put(key, version, NONE, NONE, NEVER, valueFor(KeyFormat.encode(key, version)))) {
                        throw new AssertionError("put of a fresh key and version returned false");
                    }
                    published.set(writer, i + 1);
                }
                return null;
            });
        }
        for (int r = 0; r < 2; r++) {
            long seed = 0x5EED_4200L + r;
            tasks.add(() -> {
                Random random = new Random(seed);
                start.await();
                boolean last = false;
                while (!last) {
                    last = !writing.get();
                    int total = 0;
                    for (int w = 0; w < writers; w++) {
                        total += published.get(w);
                    }
                    int walked = walkInOrder(table);
                    if (walked < total) {
                        throw new AssertionError("the walk saw " + walked + " entries, " + total + " were published");
                    }
                    for (int probe = 0; probe < 500; probe++) {
                        int writer = random.nextInt(writers);
                        int visible = published.get(writer);
                        if (visible == 0) {
                            continue;
                        }
                        Write write = perWriter.get(writer).get(random.nextInt(visible));
                        byte[] key = write.key();
                        long version = write.version();
                        ValueStruct value = table.get(key, version);
                        if (value == null || value.version() != version) {
                            throw new AssertionError("published " + Bytes.escape(key) + "@" + version + " read as "
                                    + (value == null ? "nothing" : "version " + value.version()));
                        }
                        if (!Arrays.equals(valueFor(KeyFormat.encode(key, version)), value.value())) {
                            throw new AssertionError("value of " + Bytes.escape(key) + "@" + version + " is not the one written");
                        }
                    }
                }
                return null;
            });
        }
        executor = Executors.newFixedThreadPool(tasks.size());
        List<Future<Void>> futures = new ArrayList<>();
        for (Callable<Void> task : tasks) {
            futures.add(executor.submit(task));
        }
        start.countDown();
        try {
            for (int w = 0; w < writers; w++) {
                futures.get(w).get();
            }
        } finally {
            writing.set(false);
        }
        for (Future<Void> future : futures) {
            future.get();
        }
        int expected = 0;
        for (List<Write> writes : perWriter) {
            expected += writes.size();
        }
        assertEquals(expected, walkInOrder(table));
    }

    /**
     * Keys built to tie on the 8-byte prefix: for a few 8-byte stems (all 0x00, all 0xFF, sign-bit
     * bytes, bytes that differ only in the last place), every truncation of the stem (lengths 0 to
     * 8, so the empty key and keys shorter than the prefix), the stem with trailing zeros (same
     * prefix, longer), and the stem with tails that differ after byte 8.
     */
    private static List<byte[]> prefixHeavyKeys() {
        byte[][] stems = {
            {0, 0, 0, 0, 0, 0, 0, 0},
            {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF},
            {0x7F, (byte) 0x80, 0x7F, (byte) 0x80, 0x7F, (byte) 0x80, 0x7F, (byte) 0x80},
            {(byte) 0x80, 0, 0, 0, 0, 0, 0, 1},
            {(byte) 0x80, 0, 0, 0, 0, 0, 0, 0},
            {'k', 'e', 'y', 0, 0, 0, 0, (byte) 0xFF},
            {1, 0, 0, 0, 0, 0, 0, 0},
        };
        byte[][] tails = {{}, {0}, {0, 0}, {1}, {(byte) 0x7F}, {(byte) 0x80}, {(byte) 0xFF}, {(byte) 0xFF, 0}, {0, (byte) 0xFF}};
        Set<String> seen = new LinkedHashSet<>();
        List<byte[]> keys = new ArrayList<>();
        for (byte[] stem : stems) {
            for (int length = 0; length <= stem.length; length++) {
                byte[] truncated = Arrays.copyOf(stem, length);
                for (int zeros = 0; zeros <= 2; zeros++) {
                    add(keys, seen, Arrays.copyOf(truncated, length + zeros)); // "ab", "ab\0", "ab\0\0": one prefix
                }
            }
            for (byte[] tail : tails) {
                byte[] key = Arrays.copyOf(stem, stem.length + tail.length);
                System.arraycopy(tail, 0, key, stem.length, tail.length);
                add(keys, seen, key);
            }
        }
        return keys;
    }

    private static void add(List<byte[]> keys, Set<String> seen, byte[] key) {
        if (seen.add(Bytes.escape(key))) {
            keys.add(key);
        }
    }

    private static byte[] valueFor(byte[] internalKey) {
        byte[] value = Arrays.copyOf(internalKey, internalKey.length + 1);
        value[internalKey.length] = (byte) internalKey.length;
        return value;
    }

    private static void assertWalks(MemTable table, TreeMap<byte[], byte[]> model, boolean reverse) {
        InternalIterator it = table.iterator(reverse);
        it.seekToFirst();
        NavigableMap<byte[], byte[]> expected = reverse ? model.descendingMap() : model;
        for (Map.Entry<byte[], byte[]> entry : expected.entrySet()) {
            assertTrue(it.valid(), () -> "the walk ended before " + Bytes.escape(entry.getKey()));
            assertArrayEquals(entry.getKey(), Arrays.copyOf(it.keyBuffer(), it.keyLength()),
                    () -> "expected " + Bytes.escape(entry.getKey()) + " but at "
                            + Bytes.escape(Arrays.copyOf(it.keyBuffer(), it.keyLength())));
            assertArrayEquals(entry.getValue(), it.value().value());
            it.next();
        }
        assertFalse(it.valid(), "the walk has more entries than the model");
    }

    /**
     * Point reads and seeks in both directions at every key (present ones, and the same keys with
     * a byte appended, which are absent) at versions between and around the written ones.
     */
    private static void assertReadsAndSeeks(MemTable table, TreeMap<byte[], byte[]> model, List<byte[]> keys) {
        long[] readVersions = {0, 1, 3, 255, 1L << 31, (1L << 32) + 1, KeyFormat.MAX_VERSION, Long.MAX_VALUE};
        for (byte[] present : keys) {
            for (byte[] userKey : List.of(present, Arrays.copyOf(present, present.length + 1))) {
                for (long readVersion : readVersions) {
                    byte[] target = KeyFormat.encode(userKey, readVersion);
                    Map.Entry<byte[], byte[]> ceiling = model.ceilingEntry(target);
                    ValueStruct read = table.get(userKey, readVersion);
                    if (ceiling == null || !Arrays.equals(KeyFormat.userKey(ceiling.getKey()), userKey)) {
                        assertNull(read, () -> "get " + Bytes.escape(target));
                    } else {
                        assertNotNull(read, () -> "get " + Bytes.escape(target));
                        assertEquals(KeyFormat.version(ceiling.getKey()), read.version(), () -> "get " + Bytes.escape(target));
                        assertArrayEquals(ceiling.getValue(), read.value());
                    }
                    assertSeek(table.iterator(false), userKey, readVersion, model.tailMap(target, true));
                    assertSeek(table.iterator(true), userKey, readVersion, model.headMap(target, true).descendingMap());
                }
            }
        }
    }

    private static void assertSeek(InternalIterator it, byte[] userKey, long version, NavigableMap<byte[], byte[]> expected) {
        it.seek(userKey, version);
        Iterator<byte[]> keys = expected.keySet().iterator();
        for (int step = 0; step < 3 && keys.hasNext(); step++) {
            byte[] key = keys.next();
            assertTrue(it.valid(), () -> "seek " + Bytes.escape(userKey) + "@" + version + " ended early");
            assertArrayEquals(key, Arrays.copyOf(it.keyBuffer(), it.keyLength()),
                    () -> "seek " + Bytes.escape(userKey) + "@" + version);
            it.next();
        }
        if (!keys.hasNext()) {
            assertFalse(it.valid(), () -> "seek " + Bytes.escape(userKey) + "@" + version + " found more than the model");
        }
    }

    /** Walks every entry checking strict internal-key order; returns how many there are. */
    private static int walkInOrder(MemTable table) {
        InternalIterator it = table.iterator(false);
        byte[] previous = null;
        int seen = 0;
        for (it.seekToFirst(); it.valid(); it.next()) {
            byte[] internal = Arrays.copyOf(it.keyBuffer(), it.keyLength());
            if (previous != null && KeyFormat.compare(previous, internal) >= 0) {
                throw new AssertionError("order broken: " + Bytes.escape(previous) + " then " + Bytes.escape(internal));
            }
            previous = internal;
            seen++;
        }
        return seen;
    }
}
