package io.trainkv.bench.db;

import java.nio.file.Path;
import java.util.Map;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.CompressionType;
import org.rocksdb.FlushOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteOptions;

/**
 * RocksDB through its JNI binding behind the harness's {@link Engine} interface, in two
 * configurations. Default ({@code rocksdb}): RocksDB's default options (which include Snappy
 * compression and no bloom filter). Tuned ({@code rocksdb-tuned}): the options a user who reads
 * RocksDB's tuning guide sets for this harness's data, so that a comparison cannot flatter
 * TrainKV: a full bloom filter of {@value #TUNED_BLOOM_BITS_PER_KEY} bits per key (TrainKV's own
 * default), no compression (the harness's values are random bytes, so compressing them costs CPU
 * and saves nothing) and {@code level_compaction_dynamic_level_bytes} (level targets sized from
 * the last level down, which bounds space amplification). Both get an LRU block cache of the
 * shared budget and the shared sync setting. Bytes written come from the engine's own statistics
 * properties, so no {@code Statistics} object (and its overhead) is needed.
 */
final class RocksDbEngine implements Engine {

    private static final double GIB = 1L << 30;
    private static final int TUNED_BLOOM_BITS_PER_KEY = 10;

    private final RocksDB db;
    private final Options options;
    private final LRUCache cache;
    private final WriteOptions writeOptions;
    private final BloomFilter filter;

    private RocksDbEngine(RocksDB db, Options options, LRUCache cache, WriteOptions writeOptions, BloomFilter filter) {
        this.db = db;
        this.options = options;
        this.cache = cache;
        this.writeOptions = writeOptions;
        this.filter = filter;
    }

    static void loadLibrary() {
        RocksDB.loadLibrary();
    }

    /** Opens RocksDB with its default options plus the shared cache and sync settings. */
    static Engine openDefault(Path dir, EngineSettings settings) {
        return open(dir, settings, false);
    }

    /** Opens RocksDB tuned as described in the class comment, plus the shared cache and sync settings. */
    static Engine openTuned(Path dir, EngineSettings settings) {
        return open(dir, settings, true);
    }

    private static Engine open(Path dir, EngineSettings settings, boolean tuned) {
        loadLibrary();
        LRUCache cache = new LRUCache(settings.cacheBytes());
        BlockBasedTableConfig table = new BlockBasedTableConfig().setBlockCache(cache);
        Options options = new Options().setCreateIfMissing(true);
        BloomFilter filter = tuned ? new BloomFilter(TUNED_BLOOM_BITS_PER_KEY) : null;
        if (tuned) {
            table.setFilterPolicy(filter);
            options.setCompressionType(CompressionType.NO_COMPRESSION)
                    .setLevelCompactionDynamicLevelBytes(true);
        }
        options.setTableFormatConfig(table);
        try {
            return new RocksDbEngine(RocksDB.open(options, dir.toString()), options, cache,
                    new WriteOptions().setSync(settings.sync()), filter);
        } catch (RocksDBException e) {
            options.close();
            cache.close();
            if (filter != null) {
                filter.close();
            }
            throw failed("open " + dir, e);
        }
    }

    /** JNI copies the value into RocksDB's write batch before put returns. */
    @Override
    public boolean keepsValueArrays() {
        return false;
    }

    @Override
    public void put(byte[] key, byte[] value) {
        try {
            db.put(writeOptions, key, value);
        } catch (RocksDBException e) {
            throw failed("put", e);
        }
    }

    @Override
    public byte[] get(byte[] key) {
        try {
            return db.get(key);
        } catch (RocksDBException e) {
            throw failed("get", e);
        }
    }

    @Override
    public void delete(byte[] key) {
        try {
            db.delete(writeOptions, key);
        } catch (RocksDBException e) {
            throw failed("delete", e);
        }
    }

    @Override
    public Cursor cursor(boolean reverse) {
        RocksIterator it = db.newIterator();
        return new Cursor() {
            @Override
            public void seekToFirst() {
                if (reverse) {
                    it.seekToLast();
                } else {
                    it.seekToFirst();
                }
            }

            @Override
            public void seek(byte[] key) {
                if (reverse) {
                    it.seekForPrev(key);
                } else {
                    it.seek(key);
                }
            }

            @Override
            public boolean valid() {
                return it.isValid();
            }

            @Override
            public void next() {
                if (reverse) {
                    it.prev();
                } else {
                    it.next();
                }
            }

            @Override
            public byte[] key() {
                return it.key();
            }

            @Override
            public byte[] value() {
                return it.value();
            }

            @Override
            public void close() {
                it.close();
            }
        };
    }

    /** Flushes the memtable, then polls until no flush or compaction is running or pending. */
    @Override
    public void settle() {
        try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
            db.flush(flush);
            while (db.getLongProperty("rocksdb.compaction-pending") > 0
                    || db.getLongProperty("rocksdb.num-running-compactions") > 0
                    || db.getLongProperty("rocksdb.num-running-flushes") > 0) {
                Thread.sleep(10);
            }
        } catch (RocksDBException e) {
            throw failed("settle", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for RocksDB compactions", e);
        }
    }

    /** WAL bytes plus table bytes written by flushes and compactions (RocksDB counts GiB to six places). */
    @Override
    public long bytesWritten() {
        try {
            Map<String, String> dbStats = db.getMapProperty("rocksdb.dbstats");
            Map<String, String> cfStats = db.getMapProperty("rocksdb.cfstats");
            return Long.parseLong(dbStats.get("db.wal_bytes_written"))
                    + Math.round(Double.parseDouble(cfStats.get("compaction.Sum.WriteGB")) * GIB);
        } catch (RocksDBException e) {
            throw failed("read statistics", e);
        }
    }

    @Override
    public void close() {
        db.close();
        writeOptions.close();
        options.close();
        cache.close();
        if (filter != null) {
            filter.close();
        }
    }

    private static IllegalStateException failed(String what, RocksDBException e) {
        return new IllegalStateException("RocksDB " + what + " failed: " + e.getMessage(), e);
    }
}
