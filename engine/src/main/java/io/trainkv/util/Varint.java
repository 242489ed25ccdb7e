package io.trainkv.util;

import java.nio.ByteBuffer;

/**
 * Unsigned LEB128 varints for 32-bit values: 7 bits per byte, low bits first, the high bit of each
 * byte set when more follow; at most 5 bytes.
 */
public final class Varint {

    /** Longest encoding of a 32-bit value. */
    public static final int MAX_LENGTH = 5;

    private Varint() {
    }

    /** Writes {@code value} (treated as unsigned) at {@code offset}; returns the offset after it. */
    public static int put(byte[] dst, int offset, int value) {
        while ((value & ~0x7f) != 0) {
            dst[offset++] = (byte) ((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        dst[offset++] = (byte) value;
        return offset;
    }

    /**
     * Reads a varint at the buffer's position and advances it.
     *
     * @throws IllegalArgumentException if the varint is longer than 5 bytes or runs past the limit
     */
    public static int get(ByteBuffer src) {
        int result = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            if (!src.hasRemaining()) {
                throw new IllegalArgumentException("varint runs past the end at offset " + src.position());
            }
            int b = src.get() & 0xff;
            result |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new IllegalArgumentException("varint longer than 5 bytes before offset " + src.position());
    }
}
