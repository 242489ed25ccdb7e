package io.trainkv.sstable;

import io.trainkv.storage.ReadSource;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashSet;

/**
 * Bounds how many table files are open at once ({@code Options.maxOpenFiles}), so that a
 * database of many tables runs under a low file-descriptor limit, as RocksDB's table cache does.
 * A table's footer, properties, filter and index are read once when its {@link TableReader}
 * opens; only the file (descriptor and mapping) comes and goes. Each file is pinned while a read
 * or an iterator uses it ({@link TableFile#pin()}); files nobody pins are kept open in
 * least-recently-used order and closed, oldest first, whenever more than the limit are open. A
 * pinned file is never closed, so the open count exceeds the limit only by files in use, and a
 * read never sees a closed file.
 *
 * <p>Thread-safe; one lock guards the bookkeeping, and a file is opened or closed under it.
 */
public final class TableCache {

    private final Storage storage;
    private final int maxOpenFiles;
    /** Open files that no one pins, least recently used first. */
    private final LinkedHashSet<Cached> idle = new LinkedHashSet<>();
    private int open;

    /**
     * @param maxOpenFiles the most table files open at once when none is pinned (at least 1)
     * @throws IllegalArgumentException if {@code maxOpenFiles} is below 1
     */
    public TableCache(Storage storage, int maxOpenFiles) {
        if (maxOpenFiles < 1) {
            throw new IllegalArgumentException("maxOpenFiles must be at least 1: " + maxOpenFiles);
        }
        this.storage = storage;
        this.maxOpenFiles = maxOpenFiles;
    }

    /** Table files open now, pinned or not. */
    public synchronized int openFiles() {
        return open;
    }

    /** A file whose first source, {@code source} (just opened from {@code name}), counts as open. */
    synchronized TableFile add(String name, boolean mmap, ReadSource source) {
        Cached file = new Cached(name, mmap, source);
        open++;
        idle.add(file);
        closeIdleOverLimit();
        return file;
    }

    private void closeIdleOverLimit() {
        Iterator<Cached> oldest = idle.iterator();
        while (open > maxOpenFiles && oldest.hasNext()) {
            Cached file = oldest.next();
            oldest.remove();
            file.closeSource();
        }
    }

    /** A table file opened on demand and closed when idle past the limit. */
    private final class Cached extends TableFile {
        private final String name;
        private final boolean mmap;
        private ReadSource source;
        private int pins;
        private boolean closed;

        Cached(String name, boolean mmap, ReadSource source) {
            this.name = name;
            this.mmap = mmap;
            this.source = source;
        }

        @Override
        ReadSource pin() throws IOException {
            synchronized (TableCache.this) {
                if (closed) {
                    throw new IllegalStateException("table " + name + " is closed");
                }
                if (source == null) {
                    ReadableFile file = storage.openRead(name);
                    try {
                        source = ReadSource.open(file, mmap);
                    } catch (IOException | RuntimeException | Error e) {
                        file.close();
                        throw e;
                    }
                    open++;
                } else if (pins == 0) {
                    idle.remove(this);
                }
                pins++;
                closeIdleOverLimit();
                return source;
            }
        }

        @Override
        void unpin() {
            synchronized (TableCache.this) {
                if (pins <= 0) {
                    throw new IllegalStateException("table " + name + " unpinned more often than pinned");
                }
                if (--pins == 0 && !closed) {
                    idle.add(this);
                    closeIdleOverLimit();
                }
            }
        }

        @Override
        boolean evictable() {
            return true;
        }

        /** Closes the source (under the cache's lock); a later pin reopens it. */
        private void closeSource() {
            try {
                source.close();
            } catch (IOException e) {
                System.getLogger(TableCache.class.getName()).log(System.Logger.Level.WARNING,
                        "cannot close table " + name, e);
            }
            source = null;
            open--;
        }

        @Override
        public void close() {
            synchronized (TableCache.this) {
                if (closed) {
                    return;
                }
                closed = true;
                if (source != null) {
                    idle.remove(this);
                    closeSource();
                }
            }
        }
    }
}
