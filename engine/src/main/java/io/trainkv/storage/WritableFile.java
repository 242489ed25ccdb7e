package io.trainkv.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/** A file open for appending. Not thread-safe: one writer at a time. */
public interface WritableFile extends Closeable {

    /** Appends every remaining byte of {@code data}; the data is durable only after {@link #sync()}. */
    void append(ByteBuffer data) throws IOException;

    /**
     * Appends {@code length} bytes of {@code array} from {@code offset}; the same as appending
     * {@code ByteBuffer.wrap(array, offset, length)}, which is what it does unless the file can
     * copy from the array directly.
     */
    default void append(byte[] array, int offset, int length) throws IOException {
        append(ByteBuffer.wrap(array, offset, length));
    }

    /** Forces every appended byte to stable storage. */
    void sync() throws IOException;

    /**
     * Writes the bytes appended so far back to disk (at least starts to), so that a later
     * {@link #sync()} has less to write; it promises nothing a crash could tell. Unlike the other
     * methods it may be called from another thread while the writer appends. Does nothing by
     * default.
     *
     * @throws IOException if writing back failed; the caller must count it as a failed
     *         {@link #sync()}, since a later sync may not report the same failure again (Linux
     *         reports a failed writeback to one fsync of a file)
     */
    default void writeBack() throws IOException {
    }

    /** Shrinks the file to {@code size} bytes; later appends continue from there. */
    void truncate(long size) throws IOException;

    /** The current length of the file in bytes, including unsynced appends. */
    long size() throws IOException;
}
