package io.trainkv.wal;

import java.nio.ByteBuffer;

/**
 * Decodes the payload of one WAL record (one batch, or a value-log durable mark), checking every
 * length against the payload.
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
        int start = payload.position();
        if (payload.remaining() < WalFormat.BATCH_HEADER_SIZE) {
            throw new IllegalArgumentException("batch header truncated at payload offset 0");
        }
        long version = payload.getLong();
        int count = payload.getInt();
        if (version == WalFormat.DURABLE_MARK_VERSION) {
            decodeDurableMark(payload, count, visitor);
            return version;
        }
        if (count < 0 || (long) count * WalFormat.ENTRY_HEADER_SIZE > payload.remaining()) {
            throw new IllegalArgumentException("entry count " + count + " does not fit the payload");
        }
        for (int i = 0; i < count; i++) {
            int at = payload.position() - start;
            if (payload.remaining() < WalFormat.ENTRY_HEADER_SIZE) {
                throw new IllegalArgumentException("entry " + i + " header truncated at payload offset " + at);
            }
            byte meta = payload.get();
            byte userMeta = payload.get();
            long expiresAt = payload.getLong();
            int keyLength = payload.getInt();
            int valueLength = payload.getInt();
            if (keyLength < 0 || valueLength < 0 || (long) keyLength + valueLength > payload.remaining()) {
                throw new IllegalArgumentException("entry " + i + " at payload offset " + at
                        + " claims key " + keyLength + " and value " + valueLength + " bytes, more than the payload holds");
            }
            byte[] key = new byte[keyLength];
            payload.get(key);
            byte[] value = new byte[valueLength];
            payload.get(value);
            visitor.entry(version, meta, userMeta, expiresAt, key, value);
        }
        if (payload.hasRemaining()) {
            throw new IllegalArgumentException(payload.remaining() + " trailing bytes after " + count + " entries");
        }
        return version;
    }

    /** The rest of a durable mark's payload, after its header: exactly a file id and a length. */
    private static void decodeDurableMark(ByteBuffer payload, int count, Visitor visitor) {
        if (count != 0 || payload.remaining() != WalFormat.DURABLE_MARK_PAYLOAD_SIZE - WalFormat.BATCH_HEADER_SIZE) {
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
