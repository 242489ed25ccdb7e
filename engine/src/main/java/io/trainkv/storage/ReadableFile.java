package io.trainkv.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/** A file open for positional reads. Safe for concurrent readers. */
public interface ReadableFile extends Closeable {

    /**
     * Reads bytes starting at {@code position} until {@code dst} is full or the file ends.
     *
     * @return the number of bytes read, less than requested only at the end of the file
     */
    int read(long position, ByteBuffer dst) throws IOException;

    /** The length of the file in bytes. */
    long size() throws IOException;

    /**
     * Maps {@code size} bytes from {@code position} read-only into memory.
     *
     * @throws UnsupportedOperationException where the file system cannot map files (jimfs)
     */
    default ByteBuffer map(long position, long size) throws IOException {
        throw new UnsupportedOperationException("memory mapping is not supported here");
    }
}
