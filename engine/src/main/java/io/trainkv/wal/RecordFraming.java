package io.trainkv.wal;

import io.trainkv.util.Bytes;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The checksummed record framing shared by the WAL and the manifest:
 * {@code crc32c(4) length(4) payload}, the CRC covering the length field and the payload.
 * {@link WalReader} reads it back for both.
 */
public final class RecordFraming {

    private RecordFraming() {
    }

    /**
     * Fills in the header of a record whose payload of {@code payloadLength} bytes already follows
     * the {@link WalFormat#HEADER_SIZE} reserved bytes at {@code recordStart}.
     */
    public static void seal(byte[] buffer, int recordStart, int payloadLength, CRC32C crc) {
        Bytes.putIntBigEndian(buffer, recordStart + 4, payloadLength);
        crc.reset();
        crc.update(buffer, recordStart + 4, 4 + payloadLength);
        Bytes.putIntBigEndian(buffer, recordStart, (int) crc.getValue());
    }

    /** One framed record holding {@code payload[0, length)}. */
    public static ByteBuffer frame(byte[] payload, int length) {
        byte[] record = new byte[WalFormat.HEADER_SIZE + length];
        System.arraycopy(payload, 0, record, WalFormat.HEADER_SIZE, length);
        seal(record, 0, length, new CRC32C());
        return ByteBuffer.wrap(record);
    }
}
