package io.trainkv.wal;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Encodes batches into WAL records in a reusable in-memory buffer, so that a group commit can
 * write the records of many batches with one append. Not thread-safe.
 */
public final class WalBatchEncoder {

    private static final int INITIAL_CAPACITY = 64 * 1024;
    /** Buffers grown past this size are released after use instead of being kept. */
    private static final int RETAINED_CAPACITY = 4 * 1024 * 1024;

    private final CRC32C crc = new CRC32C();
    private ByteBuffer buffer = ByteBuffer.allocate(INITIAL_CAPACITY);
    private int recordStart = -1;
    private int countAt;
    private int count;

    /** Discards everything encoded so far. */
    public void reset() {
        if (buffer.capacity() > RETAINED_CAPACITY) {
            buffer = ByteBuffer.allocate(INITIAL_CAPACITY);
        }
        buffer.clear();
        recordStart = -1;
    }

    /** Starts a record for a batch written at {@code version}. */
    public void beginBatch(long version) {
        if (recordStart >= 0) {
            throw new IllegalStateException("previous batch not finished");
        }
        ensure(WalFormat.HEADER_SIZE + WalFormat.BATCH_HEADER_SIZE);
        recordStart = buffer.position();
        buffer.position(recordStart + WalFormat.HEADER_SIZE);
        buffer.putLong(version);
        countAt = buffer.position();
        buffer.putInt(0);
        count = 0;
    }

    /** Adds an entry to the current batch. */
    public void addEntry(byte meta, byte userMeta, long expiresAtMillis, byte[] key, byte[] value) {
        ensure(WalFormat.ENTRY_HEADER_SIZE + key.length + value.length);
        buffer.put(meta).put(userMeta).putLong(expiresAtMillis).putInt(key.length).putInt(value.length);
        buffer.put(key).put(value);
        count++;
    }

    /** Completes the current record: fills in its entry count, length and checksum. */
    public void endBatch() {
        int end = buffer.position();
        int length = end - recordStart - WalFormat.HEADER_SIZE;
        buffer.putInt(countAt, count);
        RecordFraming.seal(buffer.array(), recordStart, length, crc);
        recordStart = -1;
    }

    /** The encoded records, ready to append; valid until the next call on this encoder. */
    public ByteBuffer records() {
        if (recordStart >= 0) {
            throw new IllegalStateException("batch not finished");
        }
        return ByteBuffer.wrap(buffer.array(), 0, buffer.position());
    }

    private void ensure(int extra) {
        if (buffer.remaining() >= extra) {
            return;
        }
        long needed = (long) buffer.position() + extra;
        long capacity = Math.max(needed, 2L * buffer.capacity());
        if (capacity > Integer.MAX_VALUE - 8) {
            capacity = needed;
        }
        ByteBuffer bigger = ByteBuffer.allocate((int) capacity);
        buffer.flip();
        bigger.put(buffer);
        buffer = bigger;
    }
}
