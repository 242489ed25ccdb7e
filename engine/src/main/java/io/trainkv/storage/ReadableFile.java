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
     * Whether every byte from {@code from} to {@code end} is zero: the space a log writer
     * preallocated ahead of its appends ({@link Storage#createLog}) and never reached.
     *
     * @return true for an empty range; false if the file ends before {@code end}
     */
    default boolean isZeros(long from, long end) throws IOException {
        return firstNonZero(from, end) < 0;
    }

    /**
     * The offset of the first byte from {@code from} to {@code end} that is not zero, or of the
     * file's end if it ends before {@code end}; -1 if they are all zeros (also for an empty range).
     * Reads the range in 64 KiB windows.
     */
    default long firstNonZero(long from, long end) throws IOException {
        ByteBuffer window = ByteBuffer.allocate((int) Math.min(64 << 10, Math.max(0, end - from)));
        for (long at = from; at < end; ) {
            window.clear().limit((int) Math.min(window.capacity(), end - at));
            int n = Math.max(0, read(at, window));
            for (int i = 0; i < n; i++) {
                if (window.get(i) != 0) {
                    return at + i;
                }
            }
            if (n < window.limit()) {
                return at + n;
            }
            at += n;
        }
        return -1;
    }

    /**
     * Maps {@code size} bytes from {@code position} read-only into memory.
     *
     * @throws UnsupportedOperationException where the file system cannot map files (jimfs)
     */
    default ByteBuffer map(long position, long size) throws IOException {
        throw new UnsupportedOperationException("memory mapping is not supported here");
    }
}
