package io.trainkv.util;

import java.nio.ByteBuffer;
import java.util.Arrays;

/** A growable byte array for building blocks and records; big-endian like every format here. */
public final class ByteOutput {

    private byte[] bytes;
    private int size;

    public ByteOutput(int initialCapacity) {
        this.bytes = new byte[Math.max(16, initialCapacity)];
    }

    public int size() {
        return size;
    }

    public void reset() {
        size = 0;
    }

    /** The backing array; valid up to {@link #size()} until the next write. */
    public byte[] array() {
        return bytes;
    }

    /** The written bytes as a buffer over the backing array. */
    public ByteBuffer asBuffer() {
        return ByteBuffer.wrap(bytes, 0, size);
    }

    public ByteOutput writeByte(int b) {
        ensure(1);
        bytes[size++] = (byte) b;
        return this;
    }

    public ByteOutput writeInt(int v) {
        ensure(4);
        bytes[size++] = (byte) (v >>> 24);
        bytes[size++] = (byte) (v >>> 16);
        bytes[size++] = (byte) (v >>> 8);
        bytes[size++] = (byte) v;
        return this;
    }

    public ByteOutput writeLong(long v) {
        writeInt((int) (v >>> 32));
        return writeInt((int) v);
    }

    public ByteOutput writeVarint(int v) {
        ensure(Varint.MAX_LENGTH);
        size = Varint.put(bytes, size, v);
        return this;
    }

    public ByteOutput write(byte[] src) {
        return write(src, 0, src.length);
    }

    public ByteOutput write(byte[] src, int offset, int length) {
        ensure(length);
        System.arraycopy(src, offset, bytes, size, length);
        size += length;
        return this;
    }

    /** Overwrites 4 bytes at {@code at} (already written). */
    public void putInt(int at, int v) {
        bytes[at] = (byte) (v >>> 24);
        bytes[at + 1] = (byte) (v >>> 16);
        bytes[at + 2] = (byte) (v >>> 8);
        bytes[at + 3] = (byte) v;
    }

    private void ensure(int extra) {
        if (size + extra > bytes.length) {
            long wanted = Math.max((long) size + extra, 2L * bytes.length);
            bytes = Arrays.copyOf(bytes, (int) Math.min(wanted, Integer.MAX_VALUE - 8));
        }
    }
}
