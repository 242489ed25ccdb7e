package io.trainkv.wal;

import io.trainkv.util.ValueStruct;
import io.trainkv.util.Varint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Encodes batches into WAL records in a reusable in-memory buffer, so that a group commit can
 * write the records of many batches with one append. Batches are written in the compact encoding
 * ({@link WalFormat#COMPACT_BATCH_TAG}), durable marks in their one fixed layout. Not thread-safe.
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
    /** Where {@link #records()} starts: past a reserved durable-mark slot left unfilled. */
    private int firstRecord;
    private boolean markReserved;

    /** Discards everything encoded so far. */
    public void reset() {
        if (buffer.capacity() > RETAINED_CAPACITY) {
            buffer = ByteBuffer.allocate(INITIAL_CAPACITY);
        }
        buffer.clear();
        recordStart = -1;
        firstRecord = 0;
        markReserved = false;
    }

    /**
     * Reserves room for a value-log durable mark in front of the records still to be encoded; call
     * right after {@link #reset()}. {@link #fillDurableMark} writes it; left unfilled, it is not
     * part of {@link #records()}.
     */
    public void reserveDurableMark() {
        if (buffer.position() != 0) {
            throw new IllegalStateException("a durable mark is reserved before any record");
        }
        buffer.position(WalFormat.DURABLE_MARK_RECORD_SIZE);
        firstRecord = WalFormat.DURABLE_MARK_RECORD_SIZE;
        markReserved = true;
    }

    /**
     * Writes the reserved durable mark: value-log file {@code fileId} is fsynced up to
     * {@code durableLength} bytes.
     */
    public void fillDurableMark(long fileId, long durableLength) {
        if (!markReserved) {
            throw new IllegalStateException("no durable mark reserved");
        }
        writeDurableMark(0, fileId, durableLength);
        firstRecord = 0;
    }

    /** Appends a value-log durable mark record after the records encoded so far. */
    public void addDurableMark(long fileId, long durableLength) {
        if (recordStart >= 0) {
            throw new IllegalStateException("batch not finished");
        }
        ensure(WalFormat.DURABLE_MARK_RECORD_SIZE);
        int at = buffer.position();
        buffer.position(at + WalFormat.DURABLE_MARK_RECORD_SIZE);
        writeDurableMark(at, fileId, durableLength);
    }

    private void writeDurableMark(int at, long fileId, long durableLength) {
        buffer.putLong(at + WalFormat.HEADER_SIZE, WalFormat.DURABLE_MARK_VERSION)
                .putInt(at + WalFormat.HEADER_SIZE + 8, 0)
                .putLong(at + WalFormat.HEADER_SIZE + WalFormat.LEGACY_BATCH_HEADER_SIZE, fileId)
                .putLong(at + WalFormat.HEADER_SIZE + WalFormat.LEGACY_BATCH_HEADER_SIZE + 8, durableLength);
        RecordFraming.seal(buffer.array(), at, WalFormat.DURABLE_MARK_PAYLOAD_SIZE, crc);
    }

    /**
     * Starts a record for a batch written at {@code version} (1..2^63-2).
     *
     * @throws IllegalArgumentException if {@code version} is negative
     */
    public void beginBatch(long version) {
        if (recordStart >= 0) {
            throw new IllegalStateException("previous batch not finished");
        }
        ensure(WalFormat.HEADER_SIZE + WalFormat.MAX_COMPACT_BATCH_HEADER_SIZE);
        recordStart = buffer.position();
        byte[] array = buffer.array();
        int at = recordStart + WalFormat.HEADER_SIZE;
        array[at++] = WalFormat.COMPACT_BATCH_TAG;
        at = Varint.putLong(array, at, version);
        countAt = at;
        array[at++] = 0; // one byte for the count varint: endBatch widens it for 128 entries or more
        buffer.position(at);
        count = 0;
    }

    /**
     * Adds an entry to the current batch: its value header (1 to {@link ValueStruct#MAX_HEADER_SIZE}
     * bytes), the key and value lengths as varints, the key and the value.
     *
     * @throws IllegalArgumentException if {@code meta} has a bit outside {@link ValueStruct#META_BITS}
     */
    public void addEntry(byte meta, byte userMeta, long expiresAtMillis, byte[] key, byte[] value) {
        ensure(ValueStruct.MAX_HEADER_SIZE + 2 * Varint.MAX_LENGTH + key.length + value.length);
        byte[] array = buffer.array();
        int at = ValueStruct.putHeader(array, buffer.position(), meta, userMeta, expiresAtMillis);
        at = Varint.put(array, at, key.length);
        at = Varint.put(array, at, value.length);
        System.arraycopy(key, 0, array, at, key.length);
        at += key.length;
        System.arraycopy(value, 0, array, at, value.length);
        buffer.position(at + value.length);
        count++;
    }

    /** Completes the current record: fills in its entry count, length and checksum. */
    public void endBatch() {
        int countLength = Varint.length(count);
        if (countLength > 1) {
            int entriesAt = countAt + 1;
            int entriesLength = buffer.position() - entriesAt;
            ensure(countLength - 1);
            System.arraycopy(buffer.array(), entriesAt, buffer.array(), entriesAt + countLength - 1, entriesLength);
            buffer.position(buffer.position() + countLength - 1);
        }
        Varint.put(buffer.array(), countAt, count);
        int length = buffer.position() - recordStart - WalFormat.HEADER_SIZE;
        RecordFraming.seal(buffer.array(), recordStart, length, crc);
        recordStart = -1;
    }

    /** The encoded records, ready to append; valid until the next call on this encoder. */
    public ByteBuffer records() {
        if (recordStart >= 0) {
            throw new IllegalStateException("batch not finished");
        }
        return ByteBuffer.wrap(buffer.array(), firstRecord, buffer.position() - firstRecord);
    }

    /**
     * Appends the encoded records (what {@link #records()} returns) to {@code log} straight from
     * this encoder's array; returns their length in bytes, 0 if there were none (nothing is
     * appended then).
     *
     * @throws IOException if the append fails
     */
    public int appendTo(WalWriter log) throws IOException {
        if (recordStart >= 0) {
            throw new IllegalStateException("batch not finished");
        }
        int length = buffer.position() - firstRecord;
        if (length > 0) {
            log.append(buffer.array(), firstRecord, length);
        }
        return length;
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
