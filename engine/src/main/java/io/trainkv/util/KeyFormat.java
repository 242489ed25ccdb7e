package io.trainkv.util;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The versioned internal key: {@code userKey ‖ version}, the version as 8 bytes big-endian.
 *
 * <p>Internal keys order by user key (unsigned bytes) ascending, then by version descending, so
 * that for one user key the newest version comes first and "the newest version visible at read
 * version R" is the first entry at or after {@code (userKey, R)}. The user key is not
 * self-delimiting: comparisons split the last 8 bytes off first (plain bytewise comparison of whole
 * internal keys would compare a version against user-key bytes).
 */
public final class KeyFormat {

    /** Bytes of the version suffix. */
    public static final int VERSION_SIZE = 8;

    /** Smallest version a write can carry; 0 means "nothing written yet". */
    public static final long MIN_VERSION = 1;

    /**
     * Largest version a write can carry. {@code Long.MAX_VALUE} is kept out of reach so that it can
     * serve as "read everything" and so that no stored record can make the clock wrap.
     */
    public static final long MAX_VERSION = Long.MAX_VALUE - 1;

    private KeyFormat() {
    }

    /** Encodes {@code userKey ‖ version}. */
    public static byte[] encode(byte[] userKey, long version) {
        byte[] key = Arrays.copyOf(userKey, userKey.length + VERSION_SIZE);
        putVersion(key, userKey.length, version);
        return key;
    }

    /** Writes a version big-endian at {@code offset}. */
    public static void putVersion(byte[] dst, int offset, long version) {
        Bytes.putLongBigEndian(dst, offset, version);
    }

    /** Reads the big-endian version at {@code offset}. */
    public static long getVersion(byte[] src, int offset) {
        return Bytes.getLongBigEndian(src, offset);
    }

    /** The version of an encoded internal key. */
    public static long version(byte[] internalKey) {
        return getVersion(internalKey, internalKey.length - VERSION_SIZE);
    }

    /** The user key of an encoded internal key, copied. */
    public static byte[] userKey(byte[] internalKey) {
        return Arrays.copyOf(internalKey, internalKey.length - VERSION_SIZE);
    }

    /**
     * Reads an internal key stored as {@code length(4) ‖ key} (manifest edits, table properties),
     * checking the length against what is left.
     *
     * @throws IllegalArgumentException if the length is impossible
     */
    public static byte[] readLengthPrefixed(ByteBuffer in) {
        int length = in.getInt();
        if (length <= VERSION_SIZE || length > in.remaining()) {
            throw new IllegalArgumentException("key length " + length + " does not fit");
        }
        byte[] key = new byte[length];
        in.get(key);
        return key;
    }

    /** Compares two encoded internal keys: user key ascending, then version descending. */
    public static int compare(byte[] a, byte[] b) {
        return compare(a, 0, a.length, b, 0, b.length);
    }

    /** Compares encoded internal keys held in array ranges. */
    public static int compare(byte[] a, int aOffset, int aLength, byte[] b, int bOffset, int bLength) {
        int aUser = aOffset + aLength - VERSION_SIZE;
        int bUser = bOffset + bLength - VERSION_SIZE;
        int c = Arrays.compareUnsigned(a, aOffset, aUser, b, bOffset, bUser);
        if (c != 0) {
            return c;
        }
        return Long.compare(getVersion(b, bUser), getVersion(a, aUser));
    }
}
