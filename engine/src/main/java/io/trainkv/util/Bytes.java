package io.trainkv.util;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Byte-array helpers shared by every format: unsigned ordering and readable rendering for messages. */
public final class Bytes {

    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final VarHandle LONG_BIG_ENDIAN = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT_BIG_ENDIAN = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    private Bytes() {
    }

    /** Unsigned lexicographic comparison, the order of user keys everywhere in the engine. */
    public static int compare(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }

    /**
     * Writes {@code value} big-endian into the 8 bytes of {@code dst} at {@code offset}, with no
     * buffer around the array.
     *
     * @throws IndexOutOfBoundsException if the 8 bytes are not all inside {@code dst}
     */
    public static void putLongBigEndian(byte[] dst, int offset, long value) {
        LONG_BIG_ENDIAN.set(dst, offset, value);
    }

    /**
     * The 8 bytes of {@code src} at {@code offset} as a big-endian long.
     *
     * @throws IndexOutOfBoundsException if the 8 bytes are not all inside {@code src}
     */
    public static long getLongBigEndian(byte[] src, int offset) {
        return (long) LONG_BIG_ENDIAN.get(src, offset);
    }

    /**
     * The first 8 bytes of the key in {@code key[from, from + length)} as an unsigned big-endian
     * number, zeros past its end: two keys whose prefixes differ are in the order of their
     * prefixes (the memtable's comparisons and a table's decoded index decide on it first).
     */
    public static long keyPrefix(byte[] key, int from, int length) {
        if (length >= 8) {
            return (long) LONG_BIG_ENDIAN.get(key, from);
        }
        long prefix = 0;
        for (int i = 0; i < length; i++) {
            prefix |= (key[from + i] & 0xFFL) << (56 - 8 * i);
        }
        return prefix;
    }

    /**
     * Writes {@code value} big-endian into the 4 bytes of {@code dst} at {@code offset}.
     *
     * @throws IndexOutOfBoundsException if the 4 bytes are not all inside {@code dst}
     */
    public static void putIntBigEndian(byte[] dst, int offset, int value) {
        INT_BIG_ENDIAN.set(dst, offset, value);
    }

    /** The bytes as text where printable ASCII, with other bytes escaped as {@code \xNN}. */
    public static String escape(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length + 8);
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '\\') {
                out.append((char) c);
            } else if (c == '\\') {
                out.append("\\\\");
            } else {
                out.append("\\x").append(HEX[c >>> 4]).append(HEX[c & 0xf]);
            }
        }
        return out.toString();
    }

    /** UTF-8 bytes of a string. */
    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
