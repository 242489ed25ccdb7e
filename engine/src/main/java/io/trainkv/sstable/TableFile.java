package io.trainkv.sstable;

import io.trainkv.storage.ReadSource;
import java.io.Closeable;
import java.io.IOException;

/**
 * The open file behind a {@link TableReader}, reached only through a pin: {@link #pin()} returns
 * the file's {@link ReadSource}, valid (mapping included) until the matching {@link #unpin()}.
 * Without a limit on open files the source stays open for the table's life and pins cost
 * nothing; under {@link TableCache} an unpinned file may be closed and is reopened by the next pin.
 */
abstract class TableFile implements Closeable {

    /**
     * The open source, valid until the matching {@link #unpin()}.
     *
     * @throws IOException if the file must be reopened and cannot be
     * @throws IllegalStateException if the table is closed
     */
    abstract ReadSource pin() throws IOException;

    /** Ends one {@link #pin()}. */
    abstract void unpin();

    /** Whether the source may be closed between pins: blocks read from it must not outlive their pin. */
    abstract boolean evictable();

    /** Closes the file for good; no pin may be held or taken any more. */
    @Override
    public abstract void close() throws IOException;

    /** A file open for the table's whole life. */
    static final class Resident extends TableFile {
        private final ReadSource source;

        Resident(ReadSource source) {
            this.source = source;
        }

        @Override
        ReadSource pin() {
            return source;
        }

        @Override
        void unpin() {
        }

        @Override
        boolean evictable() {
            return false;
        }

        @Override
        public void close() throws IOException {
            source.close();
        }
    }
}
