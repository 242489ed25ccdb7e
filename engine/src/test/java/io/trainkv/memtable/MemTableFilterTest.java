package io.trainkv.memtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The memtable's key filter: never a false "absent", few false "maybe", and sized by capacity. */
class MemTableFilterTest {

    private static byte[] key(long i) {
        return ByteBuffer.allocate(16).putLong(2 * i).putLong(i * 0x9E3779B97F4A7C15L).array();
    }

    @Test
    void everyAddedKeyIsReportedAndMostAbsentKeysAreNot() {
        MemTableFilter filter = new MemTableFilter(64L << 20);
        int added = 1_000_000; // one key per 64 bytes of a 64 MiB memtable: the densest case
        for (int i = 0; i < added; i++) {
            filter.add(key(i));
        }
        for (int i = 0; i < added; i++) {
            assertTrue(filter.mightContain(key(i)), "added key " + i);
        }
        int falsePositives = 0;
        int absent = 200_000;
        for (int i = added; i < added + absent; i++) {
            if (filter.mightContain(key(i))) {
                falsePositives++;
            }
        }
        assertTrue(falsePositives < absent * 4 / 100, falsePositives + " false positives in " + absent);
    }

    @Test
    void shortAndEmptyKeysAndKeysDifferingInOneByte() {
        MemTableFilter filter = new MemTableFilter(1L << 20);
        byte[][] keys = {new byte[0], {0}, {(byte) 0xFF}, {1, 2, 3}, {1, 2, 4}};
        assertFalse(filter.mightContain(keys[3]));
        for (byte[] k : keys) {
            filter.add(k);
        }
        for (byte[] k : keys) {
            assertTrue(filter.mightContain(k));
        }
    }

    @Test
    void sizedAtOneBitPerEightBytesOfCapacity() {
        assertEquals((1L << 20) - 16, new MemTableFilter(64L << 20).sizeBytes());
        assertEquals(((64L << 10) >>> 9) * 8 - 16, new MemTableFilter(64L << 10).sizeBytes());
        assertEquals(64, new MemTableFilter(1024).sizeBytes());
    }

    @Test
    void concurrentAddsAreAllKept() throws Exception {
        MemTableFilter filter = new MemTableFilter(1L << 20);
        int threads = 4;
        int perThread = 20_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = t * perThread;
                futures.add(pool.submit(() -> {
                    for (int i = base; i < base + perThread; i++) {
                        filter.add(key(i));
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        for (int i = 0; i < threads * perThread; i++) {
            assertTrue(filter.mightContain(key(i)), "key " + i);
        }
    }
}
