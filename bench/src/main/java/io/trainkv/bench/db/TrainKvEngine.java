package io.trainkv.bench.db;

import io.trainkv.DbIterator;
import io.trainkv.IteratorOptions;
import io.trainkv.Options;
import io.trainkv.Stats;
import io.trainkv.TrainKV;
import java.nio.file.Path;

/**
 * TrainKV behind the harness's {@link Engine} interface: default options (tables read through
 * mmap, each table holding its index and filter) plus the shared block cache budget and sync setting.
 */
final class TrainKvEngine implements Engine {

    private final TrainKV db;

    private TrainKvEngine(TrainKV db) {
        this.db = db;
    }

    static Engine open(Path dir, EngineSettings settings) {
        return new TrainKvEngine(TrainKV.open(Options.at(dir).syncWrites(settings.sync())
                .blockCacheBytes(settings.cacheBytes())));
    }

    /** The value is copied into the write-ahead log and the memtable or value log before put returns. */
    @Override
    public boolean keepsValueArrays() {
        return false;
    }

    @Override
    public void put(byte[] key, byte[] value) {
        db.set(key, value);
    }

    @Override
    public byte[] get(byte[] key) {
        return db.get(key);
    }

    @Override
    public void delete(byte[] key) {
        db.delete(key);
    }

    @Override
    public Cursor cursor(boolean reverse) {
        DbIterator it = db.iterator(reverse ? IteratorOptions.reverse() : IteratorOptions.forward());
        return new Cursor() {
            @Override
            public void seekToFirst() {
                it.seekToFirst();
            }

            @Override
            public void seek(byte[] key) {
                it.seek(key);
            }

            @Override
            public boolean valid() {
                return it.valid();
            }

            @Override
            public void next() {
                it.next();
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

    @Override
    public void settle() {
        db.waitForCompactions();
    }

    /** WAL, flushed and compacted tables, and value-log appends (all counted since open). */
    @Override
    public long bytesWritten() {
        Stats stats = db.stats();
        return stats.walBytes() + stats.flushedBytes() + stats.compactionWriteBytes() + stats.valueLogWriteBytes();
    }

    @Override
    public void close() {
        db.close();
    }
}
