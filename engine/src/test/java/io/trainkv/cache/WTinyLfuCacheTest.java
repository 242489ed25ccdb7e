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
        assertTrue(cache.windowShare() <= 0.3, "a loop longer than the cache wants a small window, and after "
                + "a long stable trace the climber still moves it there: " + cache.windowShare());
    }

    /**
     * A hit rate that swings between phases while the window makes no difference (a hot set that
     * fits in either window, then keys never seen again, alternately, in phases that do not line up
     * with the sample periods): both models hit on the same accesses, so the window stays where it
     * started. The climber before compared the cache's hit rate between consecutive periods and
     * read each phase change as the effect of its last move (there the window walked to its floor).
     */
    @Test
    void aPhaseChangeThatTheWindowDoesNotExplainDoesNotMoveIt() {
        WTinyLfuCache<Integer, String> cache = new WTinyLfuCache<>(1_000, 1, (k, v) -> 1);
        double initial = cache.windowShare();
        int fresh = 1_000_000;
        for (int i = 0; i < 300_000; i++) {
            access(cache, (i / 35_000) % 2 == 0 ? i % 20 : fresh++);
        }
        assertTrue(cache.hits() > 100_000 && cache.misses() > 100_000, "both phases: " + cache.hits() + " hits");
        assertEquals(initial, cache.windowShare(), "the window after 300,000 accesses");
    }

    /**
     * Uniformly random keys, where no window does better than another: the two models' hit counts
     * differ by chance alone, and the climber moves only on a difference beyond two standard
     * deviations, so it holds still in most of the 40 periods (moving on every nonzero difference,
     * it moved in 39 of them).
     */
    @Test
    void onKeysWhereNoWindowIsBetterTheWindowMostlyHoldsStill() {
        WTinyLfuCache<Integer, String> cache = new WTinyLfuCache<>(1_000, 1, (k, v) -> 1);
        Random random = new Random(1);
        int moves = 0;
        double share = cache.windowShare();
        for (int i = 0; i < 400_000; i++) {
            access(cache, random.nextInt(4_000));
            if (i % 1_000 == 0 && cache.windowShare() != share) {
                moves++;
                share = cache.windowShare();
            }
        }
        assertTrue(moves <= 8, "window moves in 40 sample periods: " + moves);
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

    /**
     * Eight threads read one key twice each, each thread in a read buffer stripe of its own (or
     * sharing one, if there are fewer stripes): only with all 16 reads applied does the key's
     * frequency beat that of keys written four times, which would otherwise displace it.
     */
    @Test
    void readsRecordedByEveryThreadReachTheAdmissionPolicy() throws Exception {
        WTinyLfuCache<Integer, String> cache = new WTinyLfuCache<>(10, 1, (k, v) -> 1);
        cache.put(-1, "hot");
        Thread[] readers = new Thread[8];
        for (int t = 0; t < readers.length; t++) {
            readers[t] = new Thread(() -> {
                cache.get(-1);
                cache.get(-1);
            });
            readers[t].start();
        }
        for (Thread reader : readers) {
            reader.join();
        }
        for (int key = 0; key < 30; key++) {
            for (int write = 0; write < 4; write++) {
                cache.put(key, "warm");
            }
        }
        assertEquals("hot", cache.get(-1));
    }

    /**
     * Eight threads read and write overlapping keys with values that name their key and a version;
     * each thread also updates keys of its own. A read must return a value of the key asked for,
     * and on a thread's own keys the version it wrote last (or nothing, if evicted): never another
     * key's value or an overwritten one. Afterwards the counts add up and the weight is within the
     * budget and agrees with the number of entries.
     */
    @Test
    void concurrentReadersAndWritersKeepTheBoundsAndNeverLoseAValue() throws Exception {
        int entryBytes = 1_000;
        WTinyLfuCache<Integer, long[]> cache = new WTinyLfuCache<>(200 * entryBytes, entryBytes, (k, v) -> entryBytes);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<Long>> lookups = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            lookups.add(pool.submit(() -> {
                Random random = new Random(thread);
                long[] written = new long[50];
                long count = 0;
                for (int i = 0; i < 40_000; i++) {
                    if (random.nextInt(4) == 0) {
                        int own = random.nextInt(written.length);
                        int key = 1_000_000 * (thread + 1) + own;
                        long[] seen = cache.get(key);
                        count++;
                        if (seen != null) {
                            assertEquals(key, seen[0], "a read returns its own key's value");
                            assertEquals(written[own], seen[1], "a read never returns an overwritten value");
                        }
                        written[own]++;
                        cache.put(key, new long[] {key, written[own]});
                        continue;
                    }
                    int key = random.nextInt(10) < 9 ? random.nextInt(300) : 1_000 + random.nextInt(100_000);
                    long[] seen = cache.get(key);
                    count++;
                    if (seen == null) {
                        cache.put(key, new long[] {key, 0});
                    } else {
                        assertEquals(key, seen[0], "a read returns its own key's value");
                    }
                    assertTrue(cache.size() <= 200 + threads, "entries beyond the budget: " + cache.size());
                }
                return count;
            }));
        }
        long total = 0;
        for (Future<Long> f : lookups) {
            total += f.get(2, TimeUnit.MINUTES);
        }
        pool.shutdown();
        assertEquals(total, cache.hits() + cache.misses());
        assertTrue(cache.weight() <= 200L * entryBytes, "weight " + cache.weight());
        assertEquals(cache.size() * (long) entryBytes, cache.weight(), "every entry in the map is in the policy's queues");
        assertTrue(cache.evictions() > 0);
    }
}
