package io.trainkv;

import io.trainkv.storage.DirectoryLock;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A storage that delegates every operation and first runs a test's hook, which may block, count
 * or throw: the way tests inject I/O errors (or an {@link Error}) into any operation on chosen
 * files, or pause the engine at a chosen point.
 */
public final class FaultInjectingStorage implements Storage {

    /**
     * The operations a hook can intercept; {@code WRITE_BACK_ENDED} is reported after a writeback
     * returned, on its thread, so that a test can tell when one is over.
     */
    public enum Op { CREATE, MAP, OPEN_APPEND, OPEN_READ, READ, APPEND, SYNC, WRITE_BACK, WRITE_BACK_ENDED, TRUNCATE, RENAME,
        DELETE, SYNC_DIRECTORY }

    /** Runs on the calling thread before the real operation; {@code name} is the file (the source, for a rename). */
    public interface Hook {
        void before(Op op, String name) throws IOException;
    }

    private final Storage delegate;
    private final Map<Op, AtomicInteger> counts = new EnumMap<>(Op.class);
    private final AtomicInteger openReadFiles = new AtomicInteger();
    private final Map<String, Integer> openReadByName = new ConcurrentHashMap<>();
    private final AtomicInteger readsAfterClose = new AtomicInteger();
    volatile Hook hook = (op, name) -> { };
    private volatile boolean mappings = true;

    FaultInjectingStorage(Storage delegate) {
        this(delegate, (op, name) -> { });
    }

    /** Delegates to {@code delegate}, running {@code hook} before every operation. */
    public FaultInjectingStorage(Storage delegate, Hook hook) {
        this.delegate = delegate;
        this.hook = hook;
        for (Op op : Op.values()) {
            counts.put(op, new AtomicInteger());
        }
    }

    /** Files opened for reading and not closed yet. */
    int openReadFiles() {
        return openReadFiles.get();
    }

    /** Files opened for reading and not closed yet whose names match {@code names}. */
    int openReadFiles(Predicate<String> names) {
        return openReadByName.entrySet().stream().filter(e -> names.test(e.getKey()))
                .mapToInt(Map.Entry::getValue).sum();
    }

    /** Reads through a file handle after it was closed (each also reaches the delegate, which decides). */
    int readsAfterClose() {
        return readsAfterClose.get();
    }

    /** How many times {@code op} has run (or been attempted) so far. */
    int count(Op op) {
        return counts.get(op).get();
    }

    /** A hook that fails the {@code n}-th (1-based) {@code op} on a file matching {@code names}. */
    static Hook failNth(Op op, Predicate<String> names, int n) {
        AtomicInteger seen = new AtomicInteger();
        return (actual, name) -> {
            if (actual == op && names.test(name) && seen.incrementAndGet() == n) {
                throw new IOException("injected failure of " + op + " #" + n + " on " + name);
            }
        };
    }

    /**
     * A hook that throws an {@link OutOfMemoryError} on every {@code op} on a file matching
     * {@code names}, as the JDK does on every write too large for the direct memory left (the
     * temporary direct buffer of a heap write cannot be reserved); {@code fired} counts down each time.
     */
    static Hook outOfMemory(Op op, Predicate<String> names, CountDownLatch fired) {
        return (actual, name) -> {
            if (actual == op && names.test(name)) {
                fired.countDown();
                throw new OutOfMemoryError("injected: Cannot reserve direct buffer memory for " + op + " on " + name);
            }
        };
    }

    private void before(Op op, String name) throws IOException {
        counts.get(op).incrementAndGet();
        hook.before(op, name);
    }

    @Override
    public WritableFile create(String name) throws IOException {
        before(Op.CREATE, name);
        return wrap(name, delegate.create(name));
    }

    /**
     * Creates a log file through the delegate's {@link Storage#createLog} (a mapped file on the
     * default file system), hooked and counted as a {@link Op#CREATE}.
     */
    @Override
    public WritableFile createLog(String name) throws IOException {
        before(Op.CREATE, name);
        return wrap(name, delegate.createLog(name));
    }

    /**
     * Maps through the delegate (the value-log stage, on the default file system), hooked and
     * counted as a {@link Op#MAP}; stores into the mapping are not hooked. Returns null, as a
     * storage that cannot map files does, after {@link #withoutMappings()}.
     */
    @Override
    public MappedByteBuffer mapFixedSize(String name, int bytes, boolean writable) throws IOException {
        before(Op.MAP, name);
        return mappings ? delegate.mapFixedSize(name, bytes, writable) : null;
    }

    /** Makes this storage one that cannot map files ({@link #mapFixedSize} returns null); returns it. */
    public FaultInjectingStorage withoutMappings() {
        mappings = false;
        return this;
    }

    @Override
    public WritableFile openAppend(String name) throws IOException {
        before(Op.OPEN_APPEND, name);
        return wrap(name, delegate.openAppend(name));
    }

    private WritableFile wrap(String name, WritableFile file) {
        return new WritableFile() {
            @Override
            public void append(ByteBuffer data) throws IOException {
                before(Op.APPEND, name);
                file.append(data);
            }

            @Override
            public void sync() throws IOException {
                before(Op.SYNC, name);
                file.sync();
            }

            @Override
            public void writeBack() throws IOException {
                before(Op.WRITE_BACK, name); // on the writeback's thread
                file.writeBack();
                before(Op.WRITE_BACK_ENDED, name);
            }

            @Override
            public void truncate(long size) throws IOException {
                before(Op.TRUNCATE, name);
                file.truncate(size);
            }

            @Override
            public long size() throws IOException {
                return file.size();
            }

            @Override
            public void close() throws IOException {
                file.close();
            }
        };
    }

    @Override
    public ReadableFile openRead(String name) throws IOException {
        before(Op.OPEN_READ, name);
        ReadableFile file = delegate.openRead(name);
        openReadFiles.incrementAndGet();
        openReadByName.merge(name, 1, Integer::sum);
        return new ReadableFile() {
            private volatile boolean closed;

            @Override
            public int read(long position, ByteBuffer dst) throws IOException {
                if (closed) {
                    readsAfterClose.incrementAndGet();
                }
                before(Op.READ, name);
                return file.read(position, dst);
            }

            @Override
            public long size() throws IOException {
                return file.size();
            }

            @Override
            public ByteBuffer map(long position, long size) throws IOException {
                return file.map(position, size);
            }

            @Override
            public void close() throws IOException {
                if (!closed) {
                    closed = true;
                    openReadFiles.decrementAndGet();
                    openReadByName.computeIfPresent(name, (n, count) -> count == 1 ? null : count - 1);
                }
                file.close();
            }
        };
    }

    @Override
    public void rename(String source, String target) throws IOException {
        before(Op.RENAME, source);
        delegate.rename(source, target);
    }

    @Override
    public void delete(String name) throws IOException {
        before(Op.DELETE, name);
        delegate.delete(name);
    }

    @Override
    public void syncDirectory() throws IOException {
        before(Op.SYNC_DIRECTORY, "");
        delegate.syncDirectory();
    }

    @Override
    public List<String> list() throws IOException {
        return delegate.list();
    }

    @Override
    public boolean exists(String name) throws IOException {
        return delegate.exists(name);
    }

    @Override
    public long size(String name) throws IOException {
        return delegate.size(name);
    }

    @Override
    public DirectoryLock lock(String name) throws IOException {
        return delegate.lock(name);
    }

    @Override
    public String describe() {
        return delegate.describe();
    }
}
