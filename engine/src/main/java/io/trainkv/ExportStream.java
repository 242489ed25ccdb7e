package io.trainkv;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.function.LongConsumer;
import java.util.zip.CRC32C;

/**
 * The logical export stream {@link TrainKV#export(java.io.OutputStream, long)} writes and
 * {@code trainkv load} reads: a portable list of sets and deletes, independent of the on-disk
 * format, for moving data between machines or format versions. Its bytes are specified in
 * docs/format.md ("Export stream"); every integer is big-endian, every record carries a CRC32C,
 * and an end record with the record count closes the stream, so a truncated stream is an error,
 * not a shorter export.
 */
public final class ExportStream {

    /** The first eight bytes of every export stream: {@code TKVEXP}, format version 1, newline. */
    static final byte[] MAGIC = {'T', 'K', 'V', 'E', 'X', 'P', 1, '\n'};
    static final int KIND_END = 0;
    static final int KIND_SET = 1;
    static final int KIND_DELETE = 2;
    /** The longest key a stream may hold, as the engine allows. */
    private static final int MAX_KEY_LENGTH = 65_536;
    /** An import batch is cut once its keys and values reach this many bytes. */
    private static final long IMPORT_BATCH_BYTES = 4L << 20;

    private ExportStream() {
    }

    /** One set or delete of a stream: the key's newest write in the exported range. */
    public record Record(boolean delete, long version, byte[] key, byte[] value, byte userMeta, long expiresAtMillis) {

        /** The entry to write on import: the value with its user meta and absolute expiry (0: none). */
        public Entry entry() {
            Entry entry = Entry.of(key, value).withUserMeta(userMeta);
            return expiresAtMillis == 0 ? entry : entry.withExpiresAt(Instant.ofEpochMilli(expiresAtMillis));
        }
    }

    /** Whether {@code head} (the first bytes of a file or stream, at least eight) starts an export stream. */
    public static boolean startsWithMagic(byte[] head) {
        return head.length >= MAGIC.length && Arrays.equals(head, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
    }

    /** Writes a stream: header, records, end record. Not thread-safe. */
    static final class Writer {
        private final DataOutputStream out;
        private final ByteBuffer record = ByteBuffer.allocate(64);
        private long records;

        Writer(OutputStream out, long sinceVersion, long untilVersion) throws IOException {
            this.out = new DataOutputStream(out);
            this.out.write(MAGIC);
            this.out.writeLong(sinceVersion);
            this.out.writeLong(untilVersion);
        }

        void set(long version, byte[] key, byte[] value, byte userMeta, long expiresAtMillis) throws IOException {
            CRC32C crc = new CRC32C();
            writeHead(crc, KIND_SET, version, key);
            writeLength(crc, value.length);
            out.write(value);
            crc.update(value);
            record.clear();
            record.put(userMeta).putLong(expiresAtMillis).flip();
            write(crc, record);
            out.writeInt((int) crc.getValue());
            records++;
        }

        void delete(long version, byte[] key) throws IOException {
            CRC32C crc = new CRC32C();
            writeHead(crc, KIND_DELETE, version, key);
            out.writeInt((int) crc.getValue());
            records++;
        }

        /** Writes the end record and flushes; returns the number of set and delete records. */
        long finish() throws IOException {
            CRC32C crc = new CRC32C();
            record.clear();
            record.put((byte) KIND_END).putLong(records).flip();
            write(crc, record);
            out.writeInt((int) crc.getValue());
            out.flush();
            return records;
        }

        private void writeHead(CRC32C crc, int kind, long version, byte[] key) throws IOException {
            record.clear();
            record.put((byte) kind).putLong(version).putInt(key.length).flip();
            write(crc, record);
            out.write(key);
            crc.update(key);
        }

        private void writeLength(CRC32C crc, int length) throws IOException {
            record.clear();
            record.putInt(length).flip();
            write(crc, record);
        }

        private void write(CRC32C crc, ByteBuffer bytes) throws IOException {
            out.write(bytes.array(), 0, bytes.limit());
            crc.update(bytes.array(), 0, bytes.limit());
        }
    }

    /**
     * Reads a stream record by record. Lengths are bounded before anything is allocated; damage
     * is reported with its byte offset in the stream.
     */
    public static final class Reader {
        private final DataInputStream in;
        private final String source;
        private final long sinceVersion;
        private final long untilVersion;
        private long offset;
        private long records;
        private boolean ended;

        /**
         * Reads the header.
         *
         * @param source names the stream in messages (a file name, "standard input")
         * @throws CorruptionException naming {@code source} if the stream does not start with the magic
         */
        public Reader(InputStream in, String source) throws IOException {
            this.in = new DataInputStream(in);
            this.source = source;
            byte[] magic = new byte[MAGIC.length];
            readFully(magic, "header");
            if (!startsWithMagic(magic)) {
                throw new CorruptionException(source, 0, source + " is not a TrainKV export stream (bad magic)");
            }
            sinceVersion = readLong("header");
            untilVersion = readLong("header");
        }

        /** The {@code sinceVersion} the export was made with: it holds writes above it. */
        public long sinceVersion() {
            return sinceVersion;
        }

        /** The version the export returned: it holds writes at or below it; the next export's {@code sinceVersion}. */
        public long untilVersion() {
            return untilVersion;
        }

        /** Bytes consumed so far. */
        public long offset() {
            return offset;
        }

        /**
         * The next record, or null after the end record.
         *
         * @throws CorruptionException naming the source and offset, if a record is damaged, a length
         *         is out of bounds, the end record's count is wrong, or the stream ends before its end record
         */
        public Record next() throws IOException {
            if (ended) {
                return null;
            }
            long start = offset;
            CRC32C crc = new CRC32C();
            int kind = readByte(crc);
            if (kind == KIND_END) {
                long count = readLong(crc);
                checkCrc(crc, start);
                if (count != records) {
                    throw damage(start, "end record counts " + count + " records, the stream held " + records);
                }
                ended = true;
                return null;
            }
            if (kind != KIND_SET && kind != KIND_DELETE) {
                throw damage(start, "unknown record kind " + kind);
            }
            long version = readLong(crc);
            byte[] key = readBytes(crc, MAX_KEY_LENGTH, start, "key");
            Record record;
            if (kind == KIND_SET) {
                byte[] value = readBytes(crc, Options.MAX_VALUE_SIZE, start, "value");
                byte userMeta = (byte) readByte(crc);
                long expiresAt = readLong(crc);
                record = new Record(false, version, key, value, userMeta, expiresAt);
            } else {
                record = new Record(true, version, key, new byte[0], (byte) 0, 0);
            }
            checkCrc(crc, start);
            records++;
            return record;
        }

        private void checkCrc(CRC32C crc, long start) throws IOException {
            int expected = (int) crc.getValue();
            int stored = readInt(null);
            if (stored != expected) {
                throw damage(start, "record checksum mismatch");
            }
        }

        private byte[] readBytes(CRC32C crc, int max, long start, String what) throws IOException {
            int length = readInt(crc);
            if (length < 0 || length > max || (what.equals("key") && length == 0)) {
                throw damage(start, what + " length " + length + " is out of bounds (1.." + max + ")");
            }
            byte[] bytes = new byte[length];
            readFully(bytes, what);
            crc.update(bytes);
            return bytes;
        }

        private int readByte(CRC32C crc) throws IOException {
            byte[] one = new byte[1];
            readFully(one, "record");
            crc.update(one);
            return one[0] & 0xff;
        }

        private int readInt(CRC32C crc) throws IOException {
            byte[] four = new byte[4];
            readFully(four, "record");
            if (crc != null) {
                crc.update(four);
            }
            return ByteBuffer.wrap(four).getInt();
        }

        private long readLong(CRC32C crc) throws IOException {
            byte[] eight = new byte[8];
            readFully(eight, "record");
            crc.update(eight);
            return ByteBuffer.wrap(eight).getLong();
        }

        private long readLong(String what) throws IOException {
            byte[] eight = new byte[8];
            readFully(eight, what);
            return ByteBuffer.wrap(eight).getLong();
        }

        private void readFully(byte[] bytes, String what) throws IOException {
            try {
                in.readFully(bytes);
            } catch (EOFException e) {
                throw damage(offset, "the stream ends inside its " + what + " (no end record: truncated)");
            }
            offset += bytes.length;
        }

        private CorruptionException damage(long at, String what) {
            return new CorruptionException(source, at, source + " at offset " + at + ": " + what);
        }
    }

    /**
     * Writes every record of {@code reader} into {@code db}, in batches of at most
     * {@code batchRecords} records and about 4 MiB: a set as a set (user meta and absolute expiry
     * kept), a delete as a delete. Importing the exports of a chain of {@code since} versions in
     * order reproduces the source at the last one's version.
     *
     * @param progress told the number of records written so far after each batch, or null
     * @return the number of records written
     * @throws CorruptionException if the stream is damaged; the batches before the damaged record are written
     */
    public static long importInto(TrainKV db, Reader reader, int batchRecords, LongConsumer progress)
            throws IOException {
        WriteBatch batch = new WriteBatch();
        long batchBytes = 0;
        long written = 0;
        Record record;
        while ((record = reader.next()) != null) {
            if (record.delete()) {
                batch.delete(record.key());
            } else {
                batch.set(record.entry());
            }
            batchBytes += record.key().length + record.value().length;
            if (batch.size() >= batchRecords || batchBytes >= IMPORT_BATCH_BYTES) {
                written += flush(db, batch, progress, written);
                batchBytes = 0;
            }
        }
        return written + flush(db, batch, progress, written);
    }

    private static int flush(TrainKV db, WriteBatch batch, LongConsumer progress, long before) {
        int n = batch.size();
        if (n > 0) {
            db.write(batch);
            batch.clear();
            if (progress != null) {
                progress.accept(before + n);
            }
        }
        return n;
    }
}
