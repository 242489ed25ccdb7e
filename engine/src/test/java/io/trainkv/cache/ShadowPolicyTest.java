package io.trainkv.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The climber's key-only policy model: its hash table and queues, its admission, its sampling. */
class ShadowPolicyTest {

    /**
     * With the whole capacity as window the model is a plain LRU: every access must hit or miss
     * as in an access-ordered map of that size, and hold the same keys, through heavy churn of
     * inserts and evictions (which exercises the table's probe-gap closing on every eviction).
     */
    @Test
    void withTheWholeCapacityAsWindowTheModelIsAnLru() {
        int capacity = 100;
        ShadowPolicy model = new ShadowPolicy(capacity, 0.8, new FrequencySketch(capacity));
        model.setWindow(1.0);
        Map<Integer, Boolean> lru = new LinkedHashMap<>(256, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, Boolean> eldest) {
                return size() > capacity;
            }
        };
        Random random = new Random(5);
        for (int i = 0; i < 50_000; i++) {
            int hash = random.nextInt(300) * 0x10000;
            boolean expected = lru.get(hash) != null;
            if (!expected) {
                lru.put(hash, Boolean.TRUE);
            }
            assertEquals(expected, model.access(hash), "access " + i + " of key " + hash);
        }
        for (int key = 0; key < 300; key++) {
            assertEquals(lru.containsKey(key * 0x10000), model.contains(key * 0x10000), "key " + key);
        }
    }

    /**
     * The model admits by the cache's sketch: a scan of keys seen once does not displace a hot set
     * (the cache's own scan test, {@code WTinyLfuCacheTest.aLongScanDoesNotFlushTheHotSet}, on the model).
     */
    @Test
    void theModelKeepsItsHotSetThroughAScan() {
        FrequencySketch sketch = new FrequencySketch(1_000);
        ShadowPolicy model = new ShadowPolicy(1_000, 0.8, sketch);
        model.setWindow(0.15);
        for (int round = 0; round < 20; round++) {
            for (int hot = 0; hot < 500; hot++) {
                sketch.increment(hot);
                model.access(hot);
            }
        }
        for (int scanned = 10_000; scanned < 30_000; scanned++) {
            sketch.increment(scanned);
            assertFalse(model.access(scanned));
        }
        int kept = 0;
        for (int hot = 0; hot < 500; hot++) {
            kept += model.contains(hot) ? 1 : 0;
        }
        assertTrue(kept > 450, "hot keys kept through a scan of 20x the capacity: " + kept);
    }

    @Test
    void samplingTakesAboutOneKeyInMaskPlusOne() {
        int sampled = 0;
        for (int key = 0; key < 160_000; key++) {
            if (ShadowPolicy.sampled(Integer.hashCode(key), 15)) {
                sampled++;
            }
        }
        assertTrue(sampled > 9_000 && sampled < 11_000, "1 in 16 of 160,000 keys: " + sampled);
        for (int key = 0; key < 1_000; key++) {
            assertTrue(ShadowPolicy.sampled(key, 0), "a mask of 0 samples every key");
        }
    }
}
