package io.trainkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The frequency sketch, the doorkeeper, and the W-TinyLFU policy's promises. */
class WTinyLfuCacheTest {

    @Test
    void theDoorkeeperAnswersPresentAfterAKeyWasSeenOnce() {
        FrequencySketch sketch = new FrequencySketch(1_000);
        assertFalse(sketch.doorkeeperContains(7919));
        int onlyInTheDoorkeeper = 0;
        for (int key = 0; key < 500; key++) {
            sketch.increment(key * 7919);
            assertTrue(sketch.doorkeeperContains(key * 7919), "key " + key);
            assertTrue(sketch.frequency(key * 7919) >= 1);
            if (sketch.frequency(key * 7919) == 1) {
                onlyInTheDoorkeeper++;
            }
        }
        assertTrue(onlyInTheDoorkeeper > 450, "a first sighting mostly stays in the doorkeeper: " + onlyInTheDoorkeeper);
    }

    @Test
    void frequentKeysScoreHigherAndUnseenKeysStayNearZero() {
        FrequencySketch sketch = new FrequencySketch(4_096);
        for (int round = 0; round < 12; round++) {
            for (int key = 0; key < 1_000; key++) {
                sketch.increment(Integer.hashCode(key));
            }
        }
        int total = 0;
        for (int key = 1_000_000; key < 1_001_000; key++) {
            total += sketch.frequency(Integer.hashCode(key));
        }
        assertTrue(total / 1_000.0 < 1.5, "independent rows keep unseen keys low: average " + total / 1_000.0);
        assertTrue(sketch.frequency(Integer.hashCode(5)) >= 10, "a key seen 12 times: " + sketch.frequency(5));
    }

    @Test
    void agingHalvesCountersAndClearsTheDoorkeeper() {
        FrequencySketch sketch = new FrequencySketch(16);
        for (int i = 0; i < 15; i++) {
            sketch.increment(42);
        }
        int before = sketch.frequency(42);
        sketch.reset();
        assertTrue(sketch.frequency(42) <= before / 2 + 1, before + " -> " + sketch.frequency(42));
        assertFalse(sketch.doorkeeperContains(42));
    }

    @Test
    void aResetHalvesTheWholeEstimateSoAKeySeenTwiceKeepsItsEvidence() {
        for (int sightings = 1; sightings <= 20; sightings++) {
            FrequencySketch sketch = new FrequencySketch(1_000);
            for (int i = 0; i < sightings; i++) {
                sketch.increment(0x5bd1e995);
            }
            int estimate = Math.min(16, sightings);
            assertEquals(estimate, sketch.frequency(0x5bd1e995), "before the reset, after " + sightings + " sightings");
            sketch.reset();
            assertEquals(estimate / 2, sketch.frequency(0x5bd1e995), "after the reset, " + sightings + " sightings");
        }
    }

    @Test
    void theCacheStaysWithinItsByteBudget() {
        WTinyLfuCache<Integer, byte[]> cache = new WTinyLfuCache<>(100_000, 1_000, (k, v) -> v.length);
        Random random = new Random(1);
        for (int i = 0; i < 20_000; i++) {
            cache.put(random.nextInt(5_000), new byte[500 + random.nextInt(1_000)]);
            assertTrue(cache.weight() <= 100_000, "weight " + cache.weight());
        }
        assertTrue(cache.evictions() > 0);
        cache.invalidateIf(key -> key % 2 == 0);
        for (int key = 0; key < 5_000; key += 2) {
            assertNull(cache.get(key));
        }
    }

    @Test
    void aLongScanDoesNotFlushTheHotSet() {
        WTinyLfuCache<Integer, String> cache = new WTinyLfuCache<>(1_000, 1, (k, v) -> 1);
        for (int round = 0; round < 20; round++) {
            for (int hot = 0; hot < 500; hot++) {
                if (cache.get(hot) == null) {
                    cache.put(hot, "hot");
                }
            }
        }
        for (int scanned = 10_000; scanned < 30_000; scanned++) {
            if (cache.get(scanned) == null) {
                cache.put(scanned, "scan");
            }
        }
        int hotLeft = 0;
        for (int hot = 0; hot < 500; hot++) {
            if (cache.get(hot) != null) {
                hotLeft++;
            }
        }
        assertTrue(hotLeft > 450, "hot entries kept through a scan of 20x the capacity: " + hotLeft);
    }

    @Test
    void theWindowGrowsOnARecencyTrace() {
        WTinyLfuCache<Integer, String> cache = new WTinyLfuCache<>(1_000, 1, (k, v) -> 1);
        double initial = cache.windowShare();
        replayRecency(cache, new Random(7), 0, 400_000);
        assertTrue(cache.windowShare() >= 2 * initial, "window share " + initial + " -> " + cache.windowShare());
    }

    @Test
    void theClimberKeepsAdaptingAfterALongStableTrace() {
        WTinyLfuCache<Integer, String> cache = new WTinyLfuCache<>(1_000, 1, (k, v) -> 1);
        replayRecency(cache, new Random(7), 0, 2_000_000);
        assertTrue(cache.windowShare() >= 0.5, "a long recency trace grows the window: " + cache.windowShare());
        for (int i = 0; i < 400_000; i++) {
            access(cache, 10_000_000 + i % 1_100);
        }
        assertTrue(cache.windowShare() <= 0.3, "a loop longer than the cache wants a small window; after the shift the "
                + "step is re-grown and the window shrinks: " + cache.windowShare());
    }

    /**
     * A recency-heavy trace: the keys in use slide forward by one every eight accesses over a
     * range as large as the cache, so each key is read about eight times while it is in use and
     * never again; an LRU of that size hits almost always, while admission by frequency favours
     * the older keys that are about to go out of use.
     */
    private static void replayRecency(WTinyLfuCache<Integer, String> cache, Random random, int from, int accesses) {
        for (int i = from; i < from + accesses; i++) {
            access(cache, i / 8 + random.nextInt(1_000));
        }
    }

    private static void access(WTinyLfuCache<Integer, String> cache, int key) {
        if (cache.get(key) == null) {
            cache.put(key, "v");
        }
    }

    @Test
    void concurrentReadersAndWritersKeepTheCountsAndTheBudget() throws Exception {
        WTinyLfuCache<Integer, byte[]> cache = new WTinyLfuCache<>(200_000, 1_000, (k, v) -> v.length);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<Long>> gets = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            Random random = new Random(t);
            gets.add(pool.submit(() -> {
                long lookups = 0;
                for (int i = 0; i < 50_000; i++) {
                    int key = random.nextInt(10) < 9 ? random.nextInt(100) : 1_000 + random.nextInt(100_000);
                    lookups++;
                    if (cache.get(key) == null) {
                        cache.put(key, new byte[1_000]);
                    }
                }
                return lookups;
            }));
        }
        long lookups = 0;
        for (Future<Long> f : gets) {
            lookups += f.get(2, TimeUnit.MINUTES);
        }
        pool.shutdown();
        assertEquals(lookups, cache.hits() + cache.misses());
        assertTrue(cache.weight() <= 200_000);
        assertTrue(cache.hits() > cache.misses(), "a skewed workload mostly hits: " + cache.hits() + "/" + cache.misses());
    }
}
