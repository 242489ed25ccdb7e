package io.trainkv.util;

import java.nio.ByteBuffer;

/**
 * Where a separated value lives: value-log file, offset of its entry, and the entry's length.
 * Stored as the value bytes of an entry whose meta has {@link ValueStruct#META_VALUE_POINTER}:
 * {@code fileId(8) offset(8) length(4)}, big-endian.
 */
public record ValuePointer(long fileId, long offset, int length) {

    /** Bytes of an encoded pointer. */
    public static final int SIZE = 20;

    public byte[] encode() {
        byte[] bytes = new byte[SIZE];
        encode(fileId, offset, length, bytes);
        return bytes;
    }

    /**
     * Writes the pointer to the entry of {@code length} bytes at {@code offset} of value-log file
     * {@code fileId} into the first {@link #SIZE} bytes of {@code dst}, allocating nothing: the
     * write path encodes its pointers into reused arrays.
     *
     * @throws IndexOutOfBoundsException if {@code dst} is shorter than {@link #SIZE} bytes
     */
    public static void encode(long fileId, long offset, int length, byte[] dst) {
        Bytes.putLongBigEndian(dst, 0, fileId);
        Bytes.putLongBigEndian(dst, 8, offset);
        Bytes.putIntBigEndian(dst, 16, length);
    }

    /**
     * Decodes a pointer stored as an entry's value.
     *
     * @throws IllegalArgumentException if the bytes are not a pointer
     */
    public static ValuePointer decode(byte[] bytes) {
        if (bytes.length != SIZE) {
            throw new IllegalArgumentException("a value pointer is " + SIZE + " bytes, not " + bytes.length);
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        long fileId = in.getLong();
        long offset = in.getLong();
        int length = in.getInt();
        if (fileId < 0 || offset < 0 || length <= 0) {
            throw new IllegalArgumentException("value pointer out of range: file " + fileId + ", offset " + offset
                    + ", length " + length);
        }
        return new ValuePointer(fileId, offset, length);
    }
}
