package io.trainkv.util;

import java.nio.ByteBuffer;
import java.time.Clock;

/**
 * What a versioned key maps to: a meta byte (tombstone, value-pointer and moved flags), the user's
 * meta byte, an expiry time and the value bytes.
 *
 * <p>The memtable and table data blocks (format version 2) store it in the <em>value encoding</em>,
 * the value header of docs/format.md followed by the value:
 * {@code flags(1) [userMeta(1)] [expiresAtMillis(8, big-endian)] value(...)}, where the flags byte
 * holds the meta bits and says which of the two optional fields are left out
 * ({@link #FLAG_NO_USER_META}: the user meta is 0; {@link #FLAG_NO_EXPIRY}: the entry never
 * expires). The common entry's header is one byte. A version-1 table stores the fixed form
 * {@code meta(1) userMeta(1) expiresAtMillis(8)}, whose meta byte never has those two bits set: it
 * reads as the value encoding with both fields present, so one decoder serves both versions. The
 * WAL's compact entries start with the same header.
 */
public final class ValueStruct {

    /** Bytes of the longest value header: flags, user meta, expiry. */
    public static final int MAX_HEADER_SIZE = 10;

    /** Meta bit: the key was deleted at this version. */
    public static final byte META_TOMBSTONE = 1;

    /** Meta bit: the value bytes are a {@link ValuePointer} into the value log. */
    public static final byte META_VALUE_POINTER = 2;

    /**
     * Meta bit: value-log GC wrote this version to move the key's unchanged value to a new place.
     * A transaction's conflict check compares values rather than versions across it.
     */
    public static final byte META_MOVED = 4;

    /** The bits of a flags byte that are meta bits. */
    public static final int META_BITS = META_TOMBSTONE | META_VALUE_POINTER | META_MOVED;

    /** Flags bit: the user meta byte is omitted from the header; it is 0. */
    public static final byte FLAG_NO_USER_META = 0x08;

    /** Flags bit: the expiry is omitted from the header; the entry never expires. */
    public static final byte FLAG_NO_EXPIRY = 0x10;

    /** Every bit a flags byte may have set; a stored flags byte with another bit set is corrupt. */
    public static final int KNOWN_FLAGS = META_BITS | FLAG_NO_USER_META | FLAG_NO_EXPIRY;

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
     * The flags byte of the value encoding for these fields.
     *
     * @throws IllegalArgumentException if {@code meta} has a bit other than {@link #META_BITS}
     */
    public static byte flags(byte meta, byte userMeta, long expiresAtMillis) {
        if ((meta & ~META_BITS) != 0) {
            throw new IllegalArgumentException("meta byte " + (meta & 0xff) + " has bits outside " + META_BITS);
        }
        int flags = meta;
        if (userMeta == 0) {
            flags |= FLAG_NO_USER_META;
        }
        if (expiresAtMillis == NO_EXPIRY) {
            flags |= FLAG_NO_EXPIRY;
        }
        return (byte) flags;
    }

    /** Bytes of the header that starts with {@code flags}: 1, 2, 9 or 10. */
    public static int headerSize(byte flags) {
        return 1 + ((flags & FLAG_NO_USER_META) == 0 ? 1 : 0) + ((flags & FLAG_NO_EXPIRY) == 0 ? 8 : 0);
    }

    /** Bytes of the header these fields encode to: 1, 2, 9 or 10. */
    public static int headerSize(byte meta, byte userMeta, long expiresAtMillis) {
        return headerSize(flags(meta, userMeta, expiresAtMillis));
    }

    /**
     * Writes the header for these fields at {@code dst[at]}; returns the offset after it.
     *
     * @throws IllegalArgumentException if {@code meta} has a bit other than {@link #META_BITS}
     */
    public static int putHeader(byte[] dst, int at, byte meta, byte userMeta, long expiresAtMillis) {
        byte flags = flags(meta, userMeta, expiresAtMillis);
        dst[at++] = flags;
        if ((flags & FLAG_NO_USER_META) == 0) {
            dst[at++] = userMeta;
        }
        if ((flags & FLAG_NO_EXPIRY) == 0) {
            for (int shift = 56; shift >= 0; shift -= 8) {
                dst[at++] = (byte) (expiresAtMillis >>> shift);
            }
        }
        return at;
    }

    /**
     * Bytes of the header of the {@code size}-byte encoded value at {@code buffer[at]}, or -1 if it
     * is not a value encoding: its flags byte has a bit outside {@link #KNOWN_FLAGS}, or its header
     * is longer than {@code size} (0 bytes included).
     */
    public static int checkedHeaderSize(ByteBuffer buffer, int at, int size) {
        if (size < 1) {
            return -1;
        }
        byte flags = buffer.get(at);
        if ((flags & ~KNOWN_FLAGS) != 0) {
            return -1;
        }
        int header = headerSize(flags);
        return header <= size ? header : -1;
    }

    /** The meta bits of the encoded value at {@code buffer[at]}. */
    public static byte meta(ByteBuffer buffer, int at) {
        return (byte) (buffer.get(at) & META_BITS);
    }

    /** The user meta byte of the encoded value at {@code buffer[at]}. */
    public static byte userMeta(ByteBuffer buffer, int at) {
        return (buffer.get(at) & FLAG_NO_USER_META) != 0 ? 0 : buffer.get(at + 1);
    }

    /** The expiry (epoch ms, {@link #NO_EXPIRY} for none) of the encoded value at {@code buffer[at]}. */
    public static long expiresAtMillis(ByteBuffer buffer, int at) {
        byte flags = buffer.get(at);
        if ((flags & FLAG_NO_EXPIRY) != 0) {
            return NO_EXPIRY;
        }
        return buffer.getLong(at + ((flags & FLAG_NO_USER_META) == 0 ? 2 : 1));
    }

    /**
     * Decodes the {@code size}-byte encoded value at {@code at} in {@code buffer} (as a memtable
     * and a table block store it), copying the value bytes out; {@code buffer}'s position and
     * limit are left alone. The caller checks the encoding ({@link #checkedHeaderSize}) where the
     * bytes come from a file.
     */
    public static ValueStruct decode(long version, ByteBuffer buffer, int at, int size) {
        int header = headerSize(buffer.get(at));
        byte[] value = new byte[size - header];
        buffer.get(at + header, value);
        return new ValueStruct(version, meta(buffer, at), userMeta(buffer, at), expiresAtMillis(buffer, at), value);
    }

    /** Whether meta byte {@code meta} marks a tombstone. */
    public static boolean isTombstone(byte meta) {
        return (meta & META_TOMBSTONE) != 0;
    }

    /** Whether an entry with expiry {@code expiresAtMillis} has expired at {@code nowMillis}. */
    public static boolean isExpired(long expiresAtMillis, long nowMillis) {
        return expiresAtMillis != NO_EXPIRY && expiresAtMillis <= nowMillis;
    }

    /** Bytes of this entry in the value encoding, header included. */
    public int encodedSize() {
        return headerSize(meta, userMeta, expiresAtMillis) + value.length;
    }

    /** This entry in the value encoding, in a new buffer (position 0, limit the encoded size). */
    public ByteBuffer encoded() {
        byte[] bytes = new byte[encodedSize()];
        int at = putHeader(bytes, 0, meta, userMeta, expiresAtMillis);
        System.arraycopy(value, 0, bytes, at, value.length);
        return ByteBuffer.wrap(bytes);
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

    /**
     * Whether the entry has expired by {@code clock}'s time, reading the clock only for an entry
     * with an expiry: a point read of an entry without one pays no clock read.
     */
    public boolean isExpiredBy(Clock clock) {
        return expiresAtMillis != NO_EXPIRY && expiresAtMillis <= clock.millis();
    }
}
