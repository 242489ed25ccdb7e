package io.trainkv.wal;

import io.trainkv.storage.ReadableFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Reads the records of one WAL file in order, verifying each length and checksum before trusting
 * it. Lengths are checked against the file size before any buffer is allocated.
 *
 * <p>Torn tails: a crash can leave the newest log ending in a partial record, zeros (preallocated or
 * unwritten blocks) or garbage. When the reader is told to tolerate a torn tail, a bad record is
 * taken as the end of the log unless valid records after it prove damage in the middle: for a
 * garbage length, any later valid record; for a checksum failure, a valid record after the bad
 * record's claimed end; for a record claiming more bytes than the file holds (a torn final
 * write, whose payload may contain record-like bytes), a run of valid records ending exactly at
 * the end of the file. {@link #tornTailOffset()} then tells where the valid log ends. Damage in
 * the middle is always reported, as is any bad record when tails are not tolerated. (A damaged
 * final record is indistinguishable from a torn write; it is treated as one.) A tail of nothing
 * but zeros ({@link #tornTailIsZeros()}) is the space a mapped log writer preallocates ahead of its
 * appends (see {@code Storage.createLog}): no record starts in it, and nothing is lost with it.
 */
public final class WalReader {

    /** Bytes read at a time when scanning a damaged tail for later valid records. */
    private static final int SCAN_WINDOW = 1 << 20;

    private final ReadableFile file;
    private final String name;
    private final boolean tolerateTornTail;
    private final boolean checksumMismatchMayBeTorn;
    private final long size;
    private final CRC32C crc = new CRC32C();
    private final ByteBuffer header = ByteBuffer.allocate(WalFormat.HEADER_SIZE);
    private ByteBuffer payload = ByteBuffer.allocate(4096);
    private long position;
    private long recordOffset = -1;
    private long tornTailOffset = -1;
    private String tornTailReason;
    private long tornTailRecords;
    private long tornTailEntries;
    private boolean tornTailIsZeros;

    public WalReader(ReadableFile file, String name, boolean tolerateTornTail) throws IOException {
        this(file, name, tolerateTornTail, true);
    }

    /**
     * A reader that, when {@code checksumMismatchMayBeTorn} is false, reports a complete final
     * record with a bad checksum as corruption instead of a torn tail: for the manifest, whose
     * small appends tear into a short record or zeros, and whose final record may be the only
     * copy of a flush whose WAL is already deleted.
     */
    public WalReader(ReadableFile file, String name, boolean tolerateTornTail, boolean checksumMismatchMayBeTorn)
            throws IOException {
        this.file = file;
        this.name = name;
        this.tolerateTornTail = tolerateTornTail;
        this.checksumMismatchMayBeTorn = checksumMismatchMayBeTorn;
        this.size = file.size();
    }

    /**
     * The payload of the next record, valid until the next call, or null at the end of the log.
     *
     * @throws WalCorruptionException for a bad record that is not a tolerated torn tail
     */
    public ByteBuffer next() throws IOException {
        if (position >= size) {
            return null;
        }
        long remaining = size - position;
        if (remaining < WalFormat.HEADER_SIZE) {
            return bad(position, "record header truncated: " + remaining + " bytes left", Evidence.NONE);
        }
        header.clear();
        readFully(position, header);
        int expectedCrc = header.getInt(0);
        int length = header.getInt(4);
        if (length <= 0 || length > WalFormat.MAX_PAYLOAD_LENGTH) {
            return bad(position, "record length " + Integer.toUnsignedString(length) + " is invalid",
                    Evidence.ANY_LATER_RECORD);
        }
        if (length > remaining - WalFormat.HEADER_SIZE) {
            return bad(position, "record of " + length + " bytes runs past the end of the file ("
                    + (remaining - WalFormat.HEADER_SIZE) + " bytes left)", Evidence.LOG_RUNNING_TO_THE_END);
        }
        if (payload.capacity() < length) {
            payload = ByteBuffer.allocate(Math.max(length, 2 * payload.capacity()));
        }
        payload.clear().limit(length);
        readFully(position + WalFormat.HEADER_SIZE, payload);
        crc.reset();
        crc.update(header.array(), 4, 4);
        crc.update(payload.array(), 0, length);
        if ((int) crc.getValue() != expectedCrc) {
            return bad(position, "record checksum mismatch", Evidence.RECORD_AFTER_THE_CLAIMED_END);
        }
        recordOffset = position;
        position += WalFormat.HEADER_SIZE + length;
        payload.flip();
        return payload;
    }

    /** The file offset of the record last returned by {@link #next()}. */
    public long recordOffset() {
        return recordOffset;
    }

    /** The offset just past the last valid record read so far. */
    public long validEnd() {
        return tornTailOffset >= 0 ? tornTailOffset : position;
    }

    /** Where a tolerated torn tail starts, or -1 if the log ended cleanly. */
    public long tornTailOffset() {
        return tornTailOffset;
    }

    /** Why the torn tail was not a valid record, or null. */
    public String tornTailReason() {
        return tornTailReason;
    }

    /**
     * How many records start in the tolerated torn tail (0 if none): each header from the torn
     * tail's offset on whose length is possible counts, whether its checksum holds or its bytes
     * run past the end of the file, so a torn final write counts as the one record it was.
     */
    public long tornTailRecords() {
        return tornTailRecords;
    }

    /**
     * How many batch entries (keys) the records of the torn tail claim in their batch headers, as
     * far as those headers were written and are plausible (a count that cannot fit its record is
     * not counted; durable marks hold none): what an open loses with the tail.
     */
    public long tornTailEntries() {
        return tornTailEntries;
    }

    /**
     * Whether the tolerated torn tail holds zeros only, to the end of the file: space preallocated
     * ahead of the appends and not reached when the writer stopped (or, after a power cut, blocks
     * the file system allocated and never wrote). No record starts in it ({@link #tornTailRecords()}
     * is 0).
     */
    public boolean tornTailIsZeros() {
        return tornTailIsZeros;
    }

    /** The size of the file when the reader was opened. */
    public long fileSize() {
        return size;
    }

    /**
     * What proves that a bad record is damage in the middle of the log rather than its torn end.
     * A record's payload may itself contain bytes that look like a record (a value that is a log
     * record), so a match inside a torn record's own claimed extent proves nothing.
     */
    private enum Evidence {
        /** Fewer bytes than a header remain: nothing can follow. */
        NONE,
        /** The length field is garbage: any valid record starting later. */
        ANY_LATER_RECORD,
        /** The checksum failed on a record that fits the file: any valid record after its claimed end. */
        RECORD_AFTER_THE_CLAIMED_END,
        /**
         * The record claims more bytes than the file holds, as a torn final write does: only a run
         * of valid records starting later and ending exactly at the end of the file (a damaged
         * length field in the middle of an intact log).
         */
        LOG_RUNNING_TO_THE_END
    }

    private ByteBuffer bad(long offset, String reason, Evidence evidence) throws IOException {
        if (!tolerateTornTail || (evidence == Evidence.RECORD_AFTER_THE_CLAIMED_END && !checksumMismatchMayBeTorn)) {
            throw new WalCorruptionException(name, offset, reason);
        }
        boolean damageInTheMiddle = switch (evidence) {
            case NONE -> false;
            case ANY_LATER_RECORD -> validRecordFrom(offset + 1, false);
            case RECORD_AFTER_THE_CLAIMED_END -> validRecordFrom(
                    offset + WalFormat.HEADER_SIZE + header.getInt(4), false);
            case LOG_RUNNING_TO_THE_END -> validRecordFrom(offset + 1, true);
        };
        if (damageInTheMiddle) {
            throw new WalCorruptionException(name, offset, reason + ", and valid records follow, so it is not a torn tail");
        }
        tornTailOffset = offset;
        tornTailIsZeros = file.isZeros(offset, size);
        tornTailReason = tornTailIsZeros ? "zeros to the end of the file" : reason;
        measureTornTail(offset);
        position = size;
        return null;
    }

    /**
     * Counts the records that start in the torn tail from {@code from} and the entries their batch
     * headers claim ({@link #tornTailRecords()}, {@link #tornTailEntries()}), following the length
     * fields while they are possible. The bytes are not trusted: the counts say what the tail
     * looks like it held, for the warning that reports it.
     */
    private void measureTornTail(long from) throws IOException {
        ByteBuffer frame = ByteBuffer.allocate(WalFormat.HEADER_SIZE + WalFormat.MAX_COMPACT_BATCH_HEADER_SIZE);
        for (long at = from; size - at >= WalFormat.HEADER_SIZE; ) {
            frame.clear().limit((int) Math.min(frame.capacity(), size - at));
            readFully(at, frame);
            int length = frame.getInt(4);
            if (length <= 0 || length > WalFormat.MAX_PAYLOAD_LENGTH) {
                return;
            }
            tornTailRecords++;
            ByteBuffer payloadStart = frame.flip().position(WalFormat.HEADER_SIZE)
                    .limit((int) Math.min(frame.limit(), (long) WalFormat.HEADER_SIZE + length));
            tornTailEntries += WalBatchDecoder.claimedEntries(payloadStart, length);
            at += WalFormat.HEADER_SIZE + (long) length;
        }
    }

    /**
     * Whether a record with a matching checksum starts at or after {@code from} (and, if
     * {@code chainToEnd}, is followed by valid records up to exactly the end of the file). Streams
     * the tail through a fixed window, so a long zeroed or garbage tail costs no large allocation.
     */
    private boolean validRecordFrom(long from, boolean chainToEnd) throws IOException {
        ByteBuffer window = ByteBuffer.allocate(SCAN_WINDOW + WalFormat.HEADER_SIZE);
        for (long base = from; base + WalFormat.HEADER_SIZE <= size; base += SCAN_WINDOW) {
            window.clear().limit((int) Math.min(window.capacity(), size - base));
            readFully(base, window);
            int candidates = Math.min(SCAN_WINDOW, window.limit() - WalFormat.HEADER_SIZE + 1);
            for (int i = 0; i < candidates; i++) {
                long at = base + i;
                int length = window.getInt(i + 4);
                if (length > 0 && length <= WalFormat.MAX_PAYLOAD_LENGTH && length <= size - at - WalFormat.HEADER_SIZE
                        && checksumMatches(at, length, window.getInt(i))
                        && (!chainToEnd || chainsToEnd(at + WalFormat.HEADER_SIZE + length))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether valid records follow one another from {@code at} to exactly the end of the file. */
    private boolean chainsToEnd(long at) throws IOException {
        ByteBuffer next = ByteBuffer.allocate(WalFormat.HEADER_SIZE);
        while (at < size) {
            if (size - at < WalFormat.HEADER_SIZE) {
                return false;
            }
            next.clear();
            readFully(at, next);
            int length = next.getInt(4);
            if (length <= 0 || length > WalFormat.MAX_PAYLOAD_LENGTH || length > size - at - WalFormat.HEADER_SIZE
                    || !checksumMatches(at, length, next.getInt(0))) {
                return false;
            }
            at += WalFormat.HEADER_SIZE + length;
        }
        return true;
    }

    private boolean checksumMatches(long recordAt, int length, int expectedCrc) throws IOException {
        crc.reset();
        ByteBuffer lengthBytes = ByteBuffer.allocate(4).putInt(0, length);
        crc.update(lengthBytes);
        ByteBuffer chunk = ByteBuffer.allocate(Math.min(length, SCAN_WINDOW));
        long at = recordAt + WalFormat.HEADER_SIZE;
        long end = at + length;
        while (at < end) {
            chunk.clear().limit((int) Math.min(chunk.capacity(), end - at));
            readFully(at, chunk);
            at += chunk.limit();
            chunk.flip();
            crc.update(chunk);
        }
        return (int) crc.getValue() == expectedCrc;
    }

    private void readFully(long at, ByteBuffer dst) throws IOException {
        int wanted = dst.remaining();
        int n = file.read(at, dst);
        if (n != wanted) {
            throw new WalCorruptionException(name, at, "file shrank while being read: wanted " + wanted + " bytes, got " + n);
        }
    }
}
