package io.trainkv.util;

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
        return (meta & META_TOMBSTONE) != 0;
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
        return expiresAtMillis != NO_EXPIRY && expiresAtMillis <= nowMillis;
    }
}
