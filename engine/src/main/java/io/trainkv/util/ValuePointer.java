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
        return ByteBuffer.allocate(SIZE).putLong(fileId).putLong(offset).putInt(length).array();
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
