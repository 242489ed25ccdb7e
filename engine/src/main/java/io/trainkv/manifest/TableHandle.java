package io.trainkv.manifest;

import io.trainkv.sstable.TableReader;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An open table shared by the versions that contain it. Each {@link Version} holding the table
 * holds one reference; when the last is released the table is no longer reachable by any reader
 * or iterator, so its reader is closed (unmapping it) and, unless the database is closing, the
 * file is deleted as obsolete.
 */
public final class TableHandle {

    private final TableMeta meta;
    private final TableReader reader;
    private final VersionSet owner;
    private final AtomicInteger refs = new AtomicInteger();

    TableHandle(TableMeta meta, TableReader reader, VersionSet owner) {
        this.meta = meta;
        this.reader = reader;
        this.owner = owner;
    }

    public TableMeta meta() {
        return meta;
    }

    public TableReader reader() {
        return reader;
    }

    void ref() {
        refs.incrementAndGet();
    }

    /** Drops a reference without releasing the table, even if it was the last. */
    void forget() {
        refs.decrementAndGet();
    }

    void unref() {
        int left = refs.decrementAndGet();
        if (left == 0) {
            owner.release(this);
        } else if (left < 0) {
            throw new IllegalStateException("table " + meta.fileNumber() + " released too often");
        }
    }
}
