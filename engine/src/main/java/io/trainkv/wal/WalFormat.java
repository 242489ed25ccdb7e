package io.trainkv.wal;

/**
 * Constants of the write-ahead log format, documented byte by byte in {@code docs/format.md}.
 *
 * <pre>
 * record  := crc32c(4) length(4) payload(length)
 *            crc32c covers the length field and the payload; integers are big-endian
 * payload := version(8) count(4) entry{count}
 * entry   := meta(1) userMeta(1) expiresAtMillis(8) keyLength(4) valueLength(4) key value
 * </pre>
 * A log is a sequence of records with nothing between them. One record holds one atomic batch;
 * every entry of a batch carries the batch's version.
 */
public final class WalFormat {

    /** Bytes of the record header: CRC32C then payload length. */
    public static final int HEADER_SIZE = 8;

    /** Bytes of the payload header: version then entry count. */
    public static final int BATCH_HEADER_SIZE = 12;

    /** Bytes of an entry header before its key and value. */
    public static final int ENTRY_HEADER_SIZE = 18;

    /** Largest payload a record may claim; anything larger read from disk is corruption. */
    public static final int MAX_PAYLOAD_LENGTH = 1 << 30;

    private WalFormat() {
    }
}
