package io.trainkv.util;

import java.nio.ByteBuffer;

/**
 * Unsigned LEB128 varints: 7 bits per byte, low bits first, the high bit of each byte set when
 * more follow; at most 5 bytes for a 32-bit value, at most 9 for a non-negative 63-bit one.
 */
public final class Varint {

    /** Longest encoding of a 32-bit value. */
    public static final int MAX_LENGTH = 5;

    /** Longest encoding of a non-negative long (63 bits). */
    public static final int MAX_LONG_LENGTH = 9;

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

    /** Bytes {@code value} (treated as unsigned) takes encoded: 1 to {@link #MAX_LENGTH}. */
    public static int length(int value) {
        int length = 1;
        while ((value & ~0x7f) != 0) {
            value >>>= 7;
            length++;
        }
        return length;
    }

    /**
     * Writes {@code value}, which must not be negative, at {@code offset}; returns the offset after it
     * (at most {@link #MAX_LONG_LENGTH} bytes on).
     *
     * @throws IllegalArgumentException if {@code value} is negative
     */
    public static int putLong(byte[] dst, int offset, long value) {
        if (value < 0) {
            throw new IllegalArgumentException("negative varint " + value);
        }
        while ((value & ~0x7fL) != 0) {
            dst[offset++] = (byte) ((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        dst[offset++] = (byte) value;
        return offset;
    }

    /**
     * Reads a varint of a non-negative long at the buffer's position and advances it.
     *
     * @throws IllegalArgumentException if the varint is longer than {@link #MAX_LONG_LENGTH} bytes
     *     (a value of 2^63 or more) or runs past the limit
     */
    public static long getLong(ByteBuffer src) {
        long result = 0;
        for (int shift = 0; shift < 7 * MAX_LONG_LENGTH; shift += 7) {
            if (!src.hasRemaining()) {
                throw new IllegalArgumentException("varint runs past the end at offset " + src.position());
            }
            int b = src.get() & 0xff;
            result |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new IllegalArgumentException("varint longer than " + MAX_LONG_LENGTH + " bytes before offset "
                + src.position());
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
