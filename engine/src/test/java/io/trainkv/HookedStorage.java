package io.trainkv;

import io.trainkv.storage.DirectoryLock;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** A storage that delegates everything and lets a test run code before each file sync or append. */
final class HookedStorage implements Storage {

    /** Code run by the writing thread before the real operation; may block or throw. */
    interface Hook {
        void run(String fileName) throws IOException;
    }

    private final Storage delegate;
    final AtomicInteger fileSyncs = new AtomicInteger();
    volatile Hook beforeSync = name -> { };
    volatile Hook beforeAppend = name -> { };

    HookedStorage(Storage delegate) {
        this.delegate = delegate;
    }

    @Override
    public WritableFile create(String name) throws IOException {
        return wrap(name, delegate.create(name));
    }

    @Override
    public WritableFile openAppend(String name) throws IOException {
        return wrap(name, delegate.openAppend(name));
    }

    private WritableFile wrap(String name, WritableFile file) {
        return new WritableFile() {
            @Override
            public void append(ByteBuffer data) throws IOException {
                beforeAppend.run(name);
                file.append(data);
            }

            @Override
            public void sync() throws IOException {
                beforeSync.run(name);
                fileSyncs.incrementAndGet();
                file.sync();
            }

            @Override
            public void truncate(long size) throws IOException {
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
        return delegate.openRead(name);
    }

    @Override
    public void rename(String source, String target) throws IOException {
        delegate.rename(source, target);
    }

    @Override
    public void delete(String name) throws IOException {
        delegate.delete(name);
    }

    @Override
    public void syncDirectory() throws IOException {
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
