package io.trainkv.wal;

/**
 * Constants of the write-ahead log format, documented byte by byte in {@code docs/format.md}.
 *
 * <pre>
 * record  := crc32c(4) length(4) payload(length)
 *            crc32c covers the length field and the payload; integers are big-endian
 * payload := batch | durableMark
 * batch   := version(8) count(4) entry{count}           version in 1..2^63-2
 * entry   := meta(1) userMeta(1) expiresAtMillis(8) keyLength(4) valueLength(4) key value
 * durableMark := DURABLE_MARK_VERSION(8) count(4)=0 valueLogFileId(8) durableLength(8)
 * </pre>
 * A log is a sequence of records with nothing between them. A batch record holds one atomic
 * batch; every entry of a batch carries the batch's version. A value-log durable mark records that
 * the value-log file was fsynced up to {@code durableLength} bytes before the record was written.
 */
public final class WalFormat {

    /** Bytes of the record header: CRC32C then payload length. */
    public static final int HEADER_SIZE = 8;

    /** Bytes of the payload header: version then entry count. */
    public static final int BATCH_HEADER_SIZE = 12;

    /** Bytes of an entry header before its key and value. */
    public static final int ENTRY_HEADER_SIZE = 18;

    /**
     * The version field of a value-log durable mark: -1 (all bits set), outside the batch version
     * range 1..2^63-2, so no batch can be read as a mark nor a mark as a batch.
     */
    public static final long DURABLE_MARK_VERSION = -1L;

    /** Bytes of a durable mark's payload: the batch header with count 0, file id, durable length. */
    public static final int DURABLE_MARK_PAYLOAD_SIZE = BATCH_HEADER_SIZE + 16;

    /** Bytes of a whole durable-mark record, header included. */
    public static final int DURABLE_MARK_RECORD_SIZE = HEADER_SIZE + DURABLE_MARK_PAYLOAD_SIZE;

    /** Largest payload a record may claim; anything larger read from disk is corruption. */
    public static final int MAX_PAYLOAD_LENGTH = 1 << 30;

    private WalFormat() {
    }
}
