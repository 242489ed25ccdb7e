package io.trainkv.util;

import java.nio.ByteBuffer;

/**
 * What a versioned key maps to: a meta byte (tombstone, value-pointer and moved flags), the user's
 * meta byte, an expiry time and the value bytes. Stored in the memtable as
 * {@code meta(1) userMeta(1) expiresAtMillis(8, big-endian) value(...)}.
 */
public final class ValueStruct {

    /** Bytes before the value in the encoded form. */
    public static final int HEADER_SIZE = 10;

    /** Meta bit: the key was deleted at this version. */
    public static final byte META_TOMBSTONE = 1;

    /** Meta bit: the value bytes are a {@link ValuePointer} into the value log. */
    public static final byte META_VALUE_POINTER = 2;

    /**
     * Meta bit: value-log GC wrote this version to move the key's unchanged value to a new place.
     * A transaction's conflict check compares values rather than versions across it.
     */
    public static final byte META_MOVED = 4;

    /** Expiry value meaning "never expires". */
    public static final long NO_EXPIRY = 0;

    private final long version;
    private final byte meta;
    private final byte userMeta;
    private final long expiresAtMillis;
    private final byte[] value;

    public ValueStruct(long version, byte meta, byte userMeta, long expiresAtMillis, byte[] value) {
        this.version = version;
        this.meta = meta;
        this.userMeta = userMeta;
        this.expiresAtMillis = expiresAtMillis;
        this.value = value;
    }

    /**
     * Decodes the {@code size}-byte encoded form at {@code at} in {@code buffer} (as a memtable
     * and a table block store it), copying the value bytes out; {@code buffer}'s position and
     * limit are left alone. The caller checks that {@code size} is at least {@link #HEADER_SIZE}.
     */
    public static ValueStruct decode(long version, ByteBuffer buffer, int at, int size) {
        byte[] value = new byte[size - HEADER_SIZE];
        buffer.get(at + HEADER_SIZE, value);
        return new ValueStruct(version, buffer.get(at), buffer.get(at + 1), buffer.getLong(at + 2), value);
    }

    /** Whether meta byte {@code meta} marks a tombstone. */
    public static boolean isTombstone(byte meta) {
        return (meta & META_TOMBSTONE) != 0;
    }

    /** Whether an entry with expiry {@code expiresAtMillis} has expired at {@code nowMillis}. */
    public static boolean isExpired(long expiresAtMillis, long nowMillis) {
        return expiresAtMillis != NO_EXPIRY && expiresAtMillis <= nowMillis;
    }

    /** This entry in its encoded form, in a new buffer (position 0, limit the encoded size). */
    public ByteBuffer encoded() {
        return ByteBuffer.allocate(HEADER_SIZE + value.length).put(meta).put(userMeta).putLong(expiresAtMillis)
                .put(value).flip();
    }

    public long version() {
        return version;
    }

    public byte meta() {
        return meta;
    }

    public byte userMeta() {
        return userMeta;
    }

    public long expiresAtMillis() {
        return expiresAtMillis;
    }

    /** The value bytes; empty for a tombstone. The array is owned by the caller. */
    public byte[] value() {
        return value;
    }

    public boolean isTombstone() {
        return isTombstone(meta);
    }

    public boolean isValuePointer() {
        return (meta & META_VALUE_POINTER) != 0;
    }

    /** Whether value-log GC wrote this version only to move an unchanged value. */
    public boolean isMoved() {
        return (meta & META_MOVED) != 0;
    }

    /** The pointer this entry's value bytes hold; only for {@link #isValuePointer()} entries. */
    public ValuePointer pointer() {
        return ValuePointer.decode(value);
    }

    /** Whether the entry has expired at {@code nowMillis}. */
    public boolean isExpiredAt(long nowMillis) {
        return isExpired(expiresAtMillis, nowMillis);
    }
}
