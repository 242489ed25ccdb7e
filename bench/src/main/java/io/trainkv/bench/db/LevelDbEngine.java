package io.trainkv.bench.db;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import org.iq80.leveldb.DBIterator;
import org.iq80.leveldb.Options;
import org.iq80.leveldb.WriteOptions;
import org.iq80.leveldb.impl.DbImpl;

/**
 * The pure-Java LevelDB port (org.iq80.leveldb) behind the harness's {@link Engine} interface:
 * default options (4 MiB write buffer, no compression without a Snappy jar, no bloom filter) plus
 * the shared cache budget and sync setting. It cannot iterate in reverse, and it counts no bytes.
 */
final class LevelDbEngine implements Engine {

    private final DbImpl db;
    private final WriteOptions writeOptions;

    private LevelDbEngine(DbImpl db, WriteOptions writeOptions) {
        this.db = db;
        this.writeOptions = writeOptions;
    }

    static Engine open(Path dir, EngineSettings settings) {
        try {
            DbImpl db = new DbImpl(new Options().createIfMissing(true).cacheSize(settings.cacheBytes()), dir.toFile());
            return new LevelDbEngine(db, new WriteOptions().sync(settings.sync()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void put(byte[] key, byte[] value) {
        db.put(key, value, writeOptions);
    }

    @Override
    public byte[] get(byte[] key) {
        return db.get(key);
    }

    @Override
    public void delete(byte[] key) {
        db.delete(key, writeOptions);
    }

    @Override
    public Cursor cursor(boolean reverse) {
        if (reverse) {
            throw new UnsupportedOperationException("org.iq80.leveldb 0.12 has no reverse iteration");
        }
        DBIterator it = db.iterator();
        return new Cursor() {
            private Map.Entry<byte[], byte[]> current;

            @Override
            public void seekToFirst() {
                it.seekToFirst();
                next();
            }

            @Override
            public void seek(byte[] key) {
                it.seek(key);
                next();
            }

            @Override
            public boolean valid() {
                return current != null;
            }

            @Override
            public void next() {
                current = it.hasNext() ? it.next() : null;
            }

            @Override
            public byte[] key() {
                return current.getKey();
            }

            @Override
            public byte[] value() {
                return current.getValue();
            }

            @Override
            public void close() {
                try {
                    it.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
    }

    /** Flushes the memtable; a compaction in progress is waited for by {@link #close()}. */
    @Override
    public void settle() {
        db.flushMemTable();
    }

    @Override
    public long bytesWritten() {
        return -1;
    }

    @Override
    public void close() {
        db.close();
    }
}
