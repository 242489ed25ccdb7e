package io.trainkv.sstable;

/**
 * Constants of the table file format, documented byte by byte in {@code docs/format.md}.
 *
 * <pre>
 * table  := dataBlock+ filterBlock propertiesBlock indexBlock footer
 * block  := contents crc32c(4)                 crc32c covers the contents
 * footer := filterHandle propertiesHandle indexHandle formatVersion(4) crc32c(4) magic(8)
 * handle := offset(8) size(4)                  size counts the contents, not the checksum
 * </pre>
 */
public final class TableFormat {

    /** "TRAINKV1" in ASCII. */
    public static final long MAGIC = 0x5452_4149_4e4b_5631L;

    /**
     * The format version this build writes: 2, values in the value encoding whose optional header
     * fields may be omitted ({@link io.trainkv.util.ValueStruct}).
     */
    public static final int FORMAT_VERSION = 2;

    /**
     * The oldest format version this build reads: 1, every value with the fixed 10-byte header
     * (meta, user meta, expiry), which the version-2 decoder reads as a header with every field present.
     */
    public static final int OLDEST_READABLE_FORMAT_VERSION = 1;

    /** Bytes of a block handle: offset then size. */
    public static final int HANDLE_SIZE = 12;

    /** Bytes of the footer: three handles, format version, checksum, magic. */
    public static final int FOOTER_SIZE = 3 * HANDLE_SIZE + 4 + 4 + 8;

    /** Bytes of the checksum that follows every block. */
    public static final int BLOCK_TRAILER_SIZE = 4;

    /** Entries between restart points in data blocks. */
    public static final int DATA_RESTART_INTERVAL = 16;

    /** Every index entry is a restart point, so the index can be binary-searched directly. */
    public static final int INDEX_RESTART_INTERVAL = 1;

    /** Largest block the reader accepts; a larger size read from disk is corruption. */
    public static final int MAX_BLOCK_SIZE = 256 * 1024 * 1024;

    private TableFormat() {
    }
}
