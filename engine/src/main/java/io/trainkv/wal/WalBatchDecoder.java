package io.trainkv.wal;

import io.trainkv.util.ValueStruct;
import io.trainkv.util.Varint;
import java.nio.ByteBuffer;

/**
 * Decodes the payload of one WAL record (a compact batch, a legacy batch written by an older
 * build, or a value-log durable mark; the first byte tells which, see {@link WalFormat}), checking
 * every count and length against the payload before allocating.
 */
public final class WalBatchDecoder {

    /** Receives the entries of a decoded batch in the order they were written. */
    @FunctionalInterface
    public interface Visitor {
        void entry(long version, byte meta, byte userMeta, long expiresAtMillis, byte[] key, byte[] value);

        /**
         * Receives a value-log durable mark: value-log file {@code fileId} was fsynced up to
         * {@code durableLength} bytes before the record was written. Ignored unless overridden.
         */
        default void durableMark(long fileId, long durableLength) {
        }
    }

    private WalBatchDecoder() {
    }

    /**
     * Decodes {@code payload} and hands each entry, or the durable mark, to {@code visitor}.
     *
     * @return the batch version, or {@link WalFormat#DURABLE_MARK_VERSION} for a value-log durable
     *         mark (then {@link Visitor#durableMark} was called and no entry)
     * @throws IllegalArgumentException naming what is malformed, with its offset inside the payload
     */
    public static long decode(ByteBuffer payload, Visitor visitor) {
        if (payload.hasRemaining() && payload.get(payload.position()) == WalFormat.COMPACT_BATCH_TAG) {
            return decodeCompact(payload, visitor);
        }
        return decodeLegacy(payload, visitor);
    }

    /** A compact batch: the tag, varint version and count, then entries with value headers and varint lengths. */
    private static long decodeCompact(ByteBuffer payload, Visitor visitor) {
        int start = payload.position();
        payload.get();
        long version;
        int count;
        try {
            version = Varint.getLong(payload);
            count = Varint.get(payload);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("batch header malformed: " + e.getMessage(), e);
        }
        if (count < 0 || (long) count * WalFormat.MIN_COMPACT_ENTRY_SIZE > payload.remaining()) {
            throw new IllegalArgumentException("entry count " + Integer.toUnsignedString(count)
                    + " does not fit the payload");
        }
        for (int i = 0; i < count; i++) {
            int entryAt = payload.position();
            int at = entryAt - start;
            if (!payload.hasRemaining()) {
                throw new IllegalArgumentException("entry " + i + " header truncated at payload offset " + at);
            }
            byte flags = payload.get(entryAt);
            if ((flags & ~ValueStruct.KNOWN_FLAGS) != 0) {
                throw new IllegalArgumentException("entry " + i + " at payload offset " + at + " has flags byte "
                        + (flags & 0xff) + " with unknown bits");
            }
            int header = ValueStruct.headerSize(flags);
            if (payload.remaining() < header + 2) {
                throw new IllegalArgumentException("entry " + i + " header truncated at payload offset " + at);
            }
            byte userMeta = ValueStruct.userMeta(payload, entryAt);
            long expiresAt = ValueStruct.expiresAtMillis(payload, entryAt);
            payload.position(entryAt + header);
            int keyLength;
            int valueLength;
            try {
                keyLength = Varint.get(payload);
                valueLength = Varint.get(payload);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("entry " + i + " at payload offset " + at + ": length malformed: "
                        + e.getMessage(), e);
            }
            checkLengths(i, at, keyLength, valueLength, payload);
            visit(payload, visitor, version, (byte) (flags & ValueStruct.META_BITS), userMeta, expiresAt, keyLength,
                    valueLength);
        }
        checkNoTrailingBytes(payload, count);
        return version;
    }

    /** A legacy batch (fixed-width headers, written by builds before the compact encoding) or a durable mark. */
    private static long decodeLegacy(ByteBuffer payload, Visitor visitor) {
        int start = payload.position();
        if (payload.remaining() < WalFormat.LEGACY_BATCH_HEADER_SIZE) {
            throw new IllegalArgumentException("batch header truncated at payload offset 0");
        }
        long version = payload.getLong();
        int count = payload.getInt();
        if (version == WalFormat.DURABLE_MARK_VERSION) {
            decodeDurableMark(payload, count, visitor);
            return version;
        }
        if (count < 0 || (long) count * WalFormat.LEGACY_ENTRY_HEADER_SIZE > payload.remaining()) {
            throw new IllegalArgumentException("entry count " + count + " does not fit the payload");
        }
        for (int i = 0; i < count; i++) {
            int at = payload.position() - start;
            if (payload.remaining() < WalFormat.LEGACY_ENTRY_HEADER_SIZE) {
                throw new IllegalArgumentException("entry " + i + " header truncated at payload offset " + at);
            }
            byte meta = payload.get();
            if ((meta & ~ValueStruct.META_BITS) != 0) {
                throw new IllegalArgumentException("entry " + i + " at payload offset " + at + " has meta byte "
                        + (meta & 0xff) + " with bits outside the meta bits");
            }
            byte userMeta = payload.get();
            long expiresAt = payload.getLong();
            int keyLength = payload.getInt();
            int valueLength = payload.getInt();
            checkLengths(i, at, keyLength, valueLength, payload);
            visit(payload, visitor, version, meta, userMeta, expiresAt, keyLength, valueLength);
        }
        checkNoTrailingBytes(payload, count);
        return version;
    }

    private static void checkLengths(int entry, int at, int keyLength, int valueLength, ByteBuffer payload) {
        if (keyLength < 0 || valueLength < 0 || (long) keyLength + valueLength > payload.remaining()) {
            throw new IllegalArgumentException("entry " + entry + " at payload offset " + at
                    + " claims key " + Integer.toUnsignedString(keyLength) + " and value "
                    + Integer.toUnsignedString(valueLength) + " bytes, more than the payload holds");
        }
    }

    /** Copies out the key and value that follow an entry's header (lengths already checked) and visits them. */
    private static void visit(ByteBuffer payload, Visitor visitor, long version, byte meta, byte userMeta,
                              long expiresAt, int keyLength, int valueLength) {
        byte[] key = new byte[keyLength];
        payload.get(key);
        byte[] value = new byte[valueLength];
        payload.get(value);
        visitor.entry(version, meta, userMeta, expiresAt, key, value);
    }

    private static void checkNoTrailingBytes(ByteBuffer payload, int count) {
        if (payload.hasRemaining()) {
            throw new IllegalArgumentException(payload.remaining() + " trailing bytes after " + count + " entries");
        }
    }

    /**
     * How many entries the batch header at the start of {@code prefix} claims, or 0 if it is a
     * durable mark, not a plausible batch header for a payload of {@code payloadLength} bytes (a
     * count that cannot fit it), or cut short. {@code prefix} holds the payload's first bytes (the
     * whole payload, or as much of it as was read: {@link WalFormat#MAX_COMPACT_BATCH_HEADER_SIZE}
     * bytes hold any batch header); it is not moved. The bytes need not be trusted: for reporting
     * what a dropped or torn tail held.
     */
    static long claimedEntries(ByteBuffer prefix, int payloadLength) {
        ByteBuffer header = prefix.duplicate();
        long count;
        int entrySize;
        if (header.hasRemaining() && header.get(header.position()) == WalFormat.COMPACT_BATCH_TAG) {
            header.get();
            try {
                Varint.getLong(header);
                count = Integer.toUnsignedLong(Varint.get(header));
            } catch (IllegalArgumentException cutShort) {
                return 0;
            }
            entrySize = WalFormat.MIN_COMPACT_ENTRY_SIZE;
        } else {
            if (header.remaining() < WalFormat.LEGACY_BATCH_HEADER_SIZE || header.getLong() == WalFormat.DURABLE_MARK_VERSION) {
                return 0;
            }
            count = header.getInt();
            entrySize = WalFormat.LEGACY_ENTRY_HEADER_SIZE;
        }
        long headerLength = header.position() - prefix.position();
        return count > 0 && count * entrySize <= payloadLength - headerLength ? count : 0;
    }

    /** The rest of a durable mark's payload, after its header: exactly a file id and a length. */
    private static void decodeDurableMark(ByteBuffer payload, int count, Visitor visitor) {
        if (count != 0 || payload.remaining() != WalFormat.DURABLE_MARK_PAYLOAD_SIZE - WalFormat.LEGACY_BATCH_HEADER_SIZE) {
            throw new IllegalArgumentException("value-log durable mark with count " + count + " and "
                    + payload.remaining() + " bytes after its header (expected count 0 and 16 bytes)");
        }
        long fileId = payload.getLong();
        long durableLength = payload.getLong();
        if (fileId < 0 || durableLength < 0) {
            throw new IllegalArgumentException("value-log durable mark with file id " + fileId + " and durable length "
                    + durableLength + ": both must be at least 0");
        }
        visitor.durableMark(fileId, durableLength);
    }
}
