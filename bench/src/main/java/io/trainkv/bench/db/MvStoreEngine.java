package io.trainkv.bench.db;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;
import org.h2.mvstore.type.ByteArrayDataType;

/**
 * H2's MVStore (a copy-on-write B-tree in one append-only file) behind the harness's
 * {@link Engine} interface: default options (background auto-commit about once a second, no
 * compression) plus a page cache of the shared budget. With sync on, every write commits and
 * fsyncs, since MVStore has no write-ahead log to sync instead. It counts no bytes written.
 */
final class MvStoreEngine implements Engine {

    private static final String FILE_NAME = "data.mv";

    private final MVStore store;
    private final MVMap<byte[], byte[]> map;
    private final boolean sync;

    private MvStoreEngine(MVStore store, MVMap<byte[], byte[]> map, boolean sync) {
        this.store = store;
        this.map = map;
        this.sync = sync;
    }

    static Engine open(Path dir, EngineSettings settings) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        MVStore store = new MVStore.Builder().fileName(dir.resolve(FILE_NAME).toString())
                .cacheSize((int) (settings.cacheBytes() >> 20)).open();
        MVMap<byte[], byte[]> map = store.openMap("kv",
                new MVMap.Builder<byte[], byte[]>().keyType(UnsignedBytes.INSTANCE).valueType(ByteArrayDataType.INSTANCE));
        return new MvStoreEngine(store, map, settings.sync());
    }

    @Override
    public void put(byte[] key, byte[] value) {
        map.put(key, value);
        syncIfAsked();
    }

    @Override
    public byte[] get(byte[] key) {
        return map.get(key);
    }

    @Override
    public void delete(byte[] key) {
        map.remove(key);
        syncIfAsked();
    }

    private void syncIfAsked() {
        if (sync) {
            store.commit();
            store.sync();
        }
    }

    @Override
    public Engine.Cursor cursor(boolean reverse) {
        return new Engine.Cursor() {
            private org.h2.mvstore.Cursor<byte[], byte[]> cursor; // the engine's cursor, not ours
            private byte[] key;
            private byte[] value;

            @Override
            public void seekToFirst() {
                cursor = map.cursor(null, null, reverse);
                next();
            }

            @Override
            public void seek(byte[] target) {
                cursor = map.cursor(target, null, reverse);
                next();
            }

            @Override
            public boolean valid() {
                return key != null;
            }

            @Override
            public void next() {
                key = cursor.hasNext() ? cursor.next() : null;
                value = key == null ? null : cursor.getValue();
            }

            @Override
            public byte[] key() {
                return key;
            }

            @Override
            public byte[] value() {
                return value;
            }

            @Override
            public void close() {
                cursor = null;
            }
        };
    }

    /** Commits: writes every change made so far to the file. */
    @Override
    public void settle() {
        store.commit();
    }

    @Override
    public long bytesWritten() {
        return -1;
    }

    @Override
    public void close() {
        store.close();
    }

    /** Byte-array keys in unsigned lexicographic order, the order the other engines use. */
    private static final class UnsignedBytes extends BasicDataType<byte[]> {

        static final UnsignedBytes INSTANCE = new UnsignedBytes();

        @Override
        public int compare(byte[] a, byte[] b) {
            return Arrays.compareUnsigned(a, b);
        }

        @Override
        public int getMemory(byte[] key) {
            return ByteArrayDataType.INSTANCE.getMemory(key);
        }

        @Override
        public void write(WriteBuffer buffer, byte[] key) {
            ByteArrayDataType.INSTANCE.write(buffer, key);
        }

        @Override
        public byte[] read(ByteBuffer buffer) {
            return ByteArrayDataType.INSTANCE.read(buffer);
        }

        @Override
        public byte[][] createStorage(int size) {
            return new byte[size][];
        }
    }
}
