package io.trainkv.vlog;

/**
 * Constants of the value-log format, documented byte by byte in {@code docs/format.md}.
 * <pre>
 * file  := entry*
 * entry := crc32c(4) version(8) keyLength(4) valueLength(4) key value
 *          crc32c covers everything after it; integers big-endian
 * </pre>
 * A value pointer names an entry by file number, the entry's offset and its whole length.
 */
public final class VlogFormat {

    /** Bytes before the key: checksum, version, key length, value length. */
    public static final int HEADER_SIZE = 20;

    private VlogFormat() {
    }

    /** The length of the entry holding this key and value. */
    public static int entryLength(int keyLength, int valueLength) {
        return HEADER_SIZE + keyLength + valueLength;
    }
}
