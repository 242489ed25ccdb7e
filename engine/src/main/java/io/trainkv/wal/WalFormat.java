package io.trainkv.wal;

import io.trainkv.util.Varint;

/**
 * Constants of the write-ahead log format, documented byte by byte in {@code docs/format.md}.
 *
 * <pre>
 * record  := crc32c(4) length(4) payload(length)
 *            crc32c covers the length field and the payload; integers are big-endian
 * payload := batch | legacyBatch | durableMark          told apart by the payload's first byte
 * batch   := COMPACT_BATCH_TAG(1) version(varint) count(varint) entry{count}
 * entry   := flags(1) [userMeta(1)] [expiresAtMillis(8)] keyLength(varint) valueLength(varint) key value
 * legacyBatch := version(8) count(4) legacyEntry{count}   first byte 0x00..0x7F (version below 2^63)
 * legacyEntry := meta(1) userMeta(1) expiresAtMillis(8) keyLength(4) valueLength(4) key value
 * durableMark := DURABLE_MARK_VERSION(8) count(4)=0 valueLogFileId(8) durableLength(8)
 * </pre>
 * A log is a sequence of records with nothing between them. A batch record holds one atomic
 * batch; every entry of a batch carries the batch's version (1..2^63-2). This build writes
 * {@code batch} (the compact encoding: an entry starts with the value header of
 * {@link io.trainkv.util.ValueStruct}, 1 byte for an entry without user meta or expiry, then
 * varint lengths) and durable marks; builds before it wrote {@code legacyBatch}, which it still
 * reads. A value-log durable mark records that the value-log file was fsynced up to
 * {@code durableLength} bytes before the record was written.
 */
public final class WalFormat {

    /** Bytes of the record header: CRC32C then payload length. */
    public static final int HEADER_SIZE = 8;

    /**
     * The first byte of a compact batch payload (0x82). A legacy batch starts with the top byte of
     * its version, 0x00..0x7F, and a durable mark with 0xFF, so the first byte tells the three apart.
     */
    public static final byte COMPACT_BATCH_TAG = (byte) 0x82;

    /** Most bytes of a compact batch header: the tag, a version varint and a count varint. */
    public static final int MAX_COMPACT_BATCH_HEADER_SIZE = 1 + Varint.MAX_LONG_LENGTH + Varint.MAX_LENGTH;

    /** Fewest bytes of a compact entry: flags, a one-byte key length and a one-byte value length. */
    public static final int MIN_COMPACT_ENTRY_SIZE = 3;

    /** Bytes of a legacy batch header (and of a durable mark's header): version then entry count. */
    public static final int LEGACY_BATCH_HEADER_SIZE = 12;

    /** Bytes of a legacy entry header before its key and value. */
    public static final int LEGACY_ENTRY_HEADER_SIZE = 18;

    /**
     * The version field of a value-log durable mark: -1 (all bits set), outside the batch version
     * range 1..2^63-2, so no batch can be read as a mark nor a mark as a batch.
     */
    public static final long DURABLE_MARK_VERSION = -1L;

    /** Bytes of a durable mark's payload: the legacy batch header with count 0, file id, durable length. */
    public static final int DURABLE_MARK_PAYLOAD_SIZE = LEGACY_BATCH_HEADER_SIZE + 16;

    /** Bytes of a whole durable-mark record, header included. */
    public static final int DURABLE_MARK_RECORD_SIZE = HEADER_SIZE + DURABLE_MARK_PAYLOAD_SIZE;

    /** Largest payload a record may claim; anything larger read from disk is corruption. */
    public static final int MAX_PAYLOAD_LENGTH = 1 << 30;

    private WalFormat() {
    }
}
