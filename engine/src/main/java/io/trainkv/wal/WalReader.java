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
 * taken as the end of the log if no valid record starts anywhere after it; {@link #tornTailOffset()}
 * then tells where the valid log ends. A bad record followed by a valid one is corruption in the
 * middle of the log and is always reported, as is any bad record when tails are not tolerated.
 * (A damaged final record is indistinguishable from a torn write; it is treated as one.)
 */
public final class WalReader {

    /** Bytes read at a time when scanning a damaged tail for later valid records. */
    private static final int SCAN_WINDOW = 1 << 20;

    private final ReadableFile file;
    private final String name;
    private final boolean tolerateTornTail;
    private final long size;
    private final CRC32C crc = new CRC32C();
    private final ByteBuffer header = ByteBuffer.allocate(WalFormat.HEADER_SIZE);
    private ByteBuffer payload = ByteBuffer.allocate(4096);
    private long position;
    private long recordOffset = -1;
    private long tornTailOffset = -1;
    private String tornTailReason;

    public WalReader(ReadableFile file, String name, boolean tolerateTornTail) throws IOException {
        this.file = file;
        this.name = name;
        this.tolerateTornTail = tolerateTornTail;
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
            return bad(position, "record header truncated: " + remaining + " bytes left");
        }
        header.clear();
        readFully(position, header);
        int expectedCrc = header.getInt(0);
        int length = header.getInt(4);
        if (length <= 0 || length > WalFormat.MAX_PAYLOAD_LENGTH || length > remaining - WalFormat.HEADER_SIZE) {
            return bad(position, "record length " + Integer.toUnsignedString(length)
                    + " is invalid with " + (remaining - WalFormat.HEADER_SIZE) + " bytes left in the file");
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
            return bad(position, "record checksum mismatch");
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

    /** The size of the file when the reader was opened. */
    public long fileSize() {
        return size;
    }

    private ByteBuffer bad(long offset, String reason) throws IOException {
        if (!tolerateTornTail) {
            throw new WalCorruptionException(name, offset, reason);
        }
        if (validRecordAfter(offset)) {
            throw new WalCorruptionException(name, offset, reason + ", and valid records follow, so it is not a torn tail");
        }
        tornTailOffset = offset;
        tornTailReason = reason;
        position = size;
        return null;
    }

    /**
     * Whether a record with a matching checksum starts anywhere after {@code offset}. Streams the
     * tail through a fixed window, so a long zeroed or garbage tail costs no large allocation.
     */
    private boolean validRecordAfter(long offset) throws IOException {
        ByteBuffer window = ByteBuffer.allocate(SCAN_WINDOW + WalFormat.HEADER_SIZE);
        for (long base = offset + 1; base + WalFormat.HEADER_SIZE <= size; base += SCAN_WINDOW) {
            window.clear().limit((int) Math.min(window.capacity(), size - base));
            readFully(base, window);
            int candidates = Math.min(SCAN_WINDOW, window.limit() - WalFormat.HEADER_SIZE + 1);
            for (int i = 0; i < candidates; i++) {
                long at = base + i;
                int length = window.getInt(i + 4);
                if (length > 0 && length <= WalFormat.MAX_PAYLOAD_LENGTH && length <= size - at - WalFormat.HEADER_SIZE
                        && checksumMatches(at, length, window.getInt(i))) {
                    return true;
                }
            }
        }
        return false;
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
