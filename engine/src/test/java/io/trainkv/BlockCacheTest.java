package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The block cache inside the engine: repeated reads of tables read with positional reads hit,
 * deleted tables leave it, mapped tables bypass it, and it can be off; the index-and-filter cache
 * is off by default and bounds index and filter memory when set.
 */
class BlockCacheTest {

    @TempDir
    Path tempDir;

    private static void load(TrainKV db) {
        for (int i = 0; i < 5_000; i++) {
            db.set(String.format("k%05d", i), "value-" + i);
        }
        db.flush();
    }

    private static void readAll(TrainKV db) {
        for (int i = 0; i < 5_000; i++) {
            assertEquals("value-" + i, db.get(String.format("k%05d", i)));
        }
    }

    @Test
    void repeatedReadsHitAndTheBlocksOfDeletedTablesAreDropped() {
        try (TrainKV db = TrainKV.open(CompactionTest.smallTree(tempDir.resolve("db")).level0Triggers(100, 200, 300)
                .mmap(false))) {
            load(db);
            assertTrue(db.stats().levels().get(0).tables() > 1, "several overlapping L0 tables, merged by flatten");
            readAll(db);
            Stats.CacheStats first = db.stats().blockCache();
            assertTrue(first.misses() > 0 && first.bytes() > 0, first.toString());
            readAll(db);
            Stats.CacheStats second = db.stats().blockCache();
            assertTrue(second.hits() - first.hits() >= 4_000, "the second pass is served from the cache: " + second);
            db.flatten();
            assertEquals(0, db.stats().blockCache().bytes(),
                    "blocks of compacted-away tables leave the cache, and compaction's own reads do not enter it");
            readAll(db);
        }
    }

    @Test
    void aSmallIndexCacheEvictsIndexesAndFiltersAndReadsStillFindEverything() {
        Options options = CompactionTest.smallTree(tempDir.resolve("db")).level0Triggers(100, 200, 300)
                .indexCacheBytes(8 * 1024).blockCacheBytes(0);
        try (TrainKV db = TrainKV.open(options)) {
            load(db);
            assertTrue(db.stats().levels().get(0).tables() > 3);
            readAll(db);
            readAll(db);
            Stats.CacheStats index = db.stats().indexCache();
            assertTrue(index.evictions() > 0 && index.misses() > 0, "indexes and filters were evicted and reloaded: " + index);
            assertTrue(index.bytes() <= 8 * 1024, index.toString());
        }
    }

    @Test
    void byDefaultEachTableHoldsItsIndexAndFilterSoReadsLookNothingUp() {
        try (TrainKV db = TrainKV.open(CompactionTest.smallTree(tempDir.resolve("db")))) {
            load(db);
            readAll(db);
            Stats.CacheStats index = db.stats().indexCache();
            assertEquals(0, index.hits() + index.misses() + index.bytes(), "no index-cache traffic: " + index);
        }
    }

    @Test
    void mappedTablesAreReadInPlaceWithoutTheCache() {
        try (TrainKV db = TrainKV.open(CompactionTest.smallTree(tempDir.resolve("db")).mmap(true))) {
            load(db);
            readAll(db);
            readAll(db);
            Stats.CacheStats stats = db.stats().blockCache();
            assertEquals(0, stats.hits() + stats.misses() + stats.bytes(), "mapped data blocks skip the cache: " + stats);
        }
    }

    @Test
    void theCacheCanBeTurnedOff() {
        try (TrainKV db = TrainKV.open(Options.at(tempDir.resolve("db")).blockCacheBytes(0))) {
            load(db);
            readAll(db);
            readAll(db);
            Stats.CacheStats stats = db.stats().blockCache();
            assertEquals(0, stats.hits() + stats.misses());
        }
    }
}
