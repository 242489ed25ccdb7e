package io.trainkv.replication;

import io.trainkv.Entry;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The bytes that travel between {@link ReplicatedTrainKV} and the replicas: requests (a write
 * batch, a transaction, a get, a scan page) and their replies. A log entry is an encoded
 * {@link Write} or {@link Txn}, so this format is also the format of the Raft log: change it only
 * with a new request tag. All integers are big-endian ({@link DataOutputStream}); byte strings are
 * a 4-byte length then the bytes, length -1 for null.
 */
final class Wire {

    static final byte WRITE = 'W';
    static final byte TXN = 'T';
    static final byte GET = 'G';
    static final byte SCAN = 'S';

    /** Reply status of a write or transaction. */
    static final byte OK = 0;
    static final byte CONFLICT = 1;
    static final byte REJECTED = 2;

    /** Longest byte string accepted from the wire: a key or value bigger than the engine allows is refused anyway. */
    private static final int MAX_BYTES = 32 * 1024 * 1024;

    private Wire() {
    }

    /**
     * One operation of a replicated batch: a set when {@code value} is non-null, else a delete.
     * The expiry is absolute (epoch ms, 0 = never): a TTL is turned into one by the client, so
     * every replica stores the same expiry.
     */
    record Op(byte[] key, byte[] value, byte userMeta, long expiresAtMillis) {

        boolean isDelete() {
            return value == null;
        }

        /** The operation as an engine entry (for a set). */
        Entry entry() {
            Entry entry = Entry.of(key, value).withUserMeta(userMeta);
            return expiresAtMillis == 0 ? entry : entry.withExpiresAt(Instant.ofEpochMilli(expiresAtMillis));
        }
    }

    /** A plain write batch. */
    record Write(List<Op> ops) {
    }

    /**
     * An optimistic transaction: its writes apply only if no key in {@code readKeys} and none in
     * {@code readRanges} ({from inclusive, to exclusive}, null = unbounded) changed after log index
     * {@code readIndex}.
     */
    record Txn(long readIndex, List<byte[]> readKeys, List<byte[][]> readRanges, List<Op> ops) {
    }

    /** A page of a scan: up to {@code limit} entries in {@code [from, to)}, descending if {@code reverse}. */
    record Scan(byte[] from, byte[] to, boolean reverse, int limit) {
    }

    /** What a write or transaction came to: OK at {@code index}, or a conflict or rejection with a reason. */
    record Outcome(byte status, long index, String reason) {
    }

    /** A read's answer: the entries found and the applied log index the replica read at. */
    record ReadReply(long appliedIndex, List<Entry> entries) {
    }

    static Message write(List<Op> ops) {
        return encode(out -> {
            out.writeByte(WRITE);
            writeOps(out, ops);
        });
    }

    static Message txn(Txn txn) {
        return encode(out -> {
            out.writeByte(TXN);
            out.writeLong(txn.readIndex());
            out.writeInt(txn.readKeys().size());
            for (byte[] key : txn.readKeys()) {
                writeBytes(out, key);
            }
            out.writeInt(txn.readRanges().size());
            for (byte[][] range : txn.readRanges()) {
                writeBytes(out, range[0]);
                writeBytes(out, range[1]);
            }
            writeOps(out, txn.ops());
        });
    }

    static Message get(byte[] key) {
        return encode(out -> {
            out.writeByte(GET);
            writeBytes(out, key);
        });
    }

    static Message scan(Scan scan) {
        return encode(out -> {
            out.writeByte(SCAN);
            writeBytes(out, scan.from());
            writeBytes(out, scan.to());
            out.writeBoolean(scan.reverse());
            out.writeInt(scan.limit());
        });
    }

    /**
     * Decodes a request into a {@link Write}, {@link Txn}, {@link Scan} or a get's key ({@code byte[]}).
     *
     * @throws IOException if the bytes are not a request
     */
    static Object decodeRequest(ByteString bytes) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
        byte tag = in.readByte();
        switch (tag) {
            case WRITE:
                return new Write(readOps(in));
            case TXN: {
                long readIndex = in.readLong();
                int keyCount = count(in);
                List<byte[]> keys = new ArrayList<>();
                for (int i = 0; i < keyCount; i++) {
                    keys.add(readBytes(in));
                }
                int rangeCount = count(in);
                List<byte[][]> ranges = new ArrayList<>();
                for (int i = 0; i < rangeCount; i++) {
                    ranges.add(new byte[][] {readBytes(in), readBytes(in)});
                }
                return new Txn(readIndex, keys, ranges, readOps(in));
            }
            case GET:
                return readBytes(in);
            case SCAN:
                return new Scan(readBytes(in), readBytes(in), in.readBoolean(), in.readInt());
            default:
                throw new IOException("unknown request tag " + tag);
        }
    }

    static Message outcome(Outcome outcome) {
        return encode(out -> {
            out.writeByte(outcome.status());
            out.writeLong(outcome.index());
            out.writeUTF(outcome.reason() == null ? "" : outcome.reason());
        });
    }

    static Outcome decodeOutcome(ByteString bytes) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
        return new Outcome(in.readByte(), in.readLong(), in.readUTF());
    }

    static Message readReply(ReadReply reply) {
        return encode(out -> {
            out.writeLong(reply.appliedIndex());
            out.writeInt(reply.entries().size());
            for (Entry entry : reply.entries()) {
                writeBytes(out, entry.key());
                writeBytes(out, entry.value());
                out.writeByte(entry.userMeta());
                out.writeLong(entry.expiresAt() == null ? 0 : entry.expiresAt().toEpochMilli());
            }
        });
    }

    static ReadReply decodeReadReply(ByteString bytes) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
        long applied = in.readLong();
        int count = count(in);
        List<Entry> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            entries.add(new Op(readBytes(in), readBytes(in), in.readByte(), in.readLong()).entry());
        }
        return new ReadReply(applied, entries);
    }

    private static void writeOps(DataOutputStream out, List<Op> ops) throws IOException {
        out.writeInt(ops.size());
        for (Op op : ops) {
            writeBytes(out, op.key());
            writeBytes(out, op.value());
            out.writeByte(op.userMeta());
            out.writeLong(op.expiresAtMillis());
        }
    }

    private static List<Op> readOps(DataInputStream in) throws IOException {
        int count = count(in);
        List<Op> ops = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ops.add(new Op(readBytes(in), readBytes(in), in.readByte(), in.readLong()));
        }
        return ops;
    }

    private static int count(DataInputStream in) throws IOException {
        int count = in.readInt();
        if (count < 0 || count > in.available()) { // each element takes at least one byte
            throw new IOException("bad element count " + count);
        }
        return count;
    }

    private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
        if (bytes == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(bytes.length);
            out.write(bytes);
        }
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length == -1) {
            return null;
        }
        if (length < 0 || length > MAX_BYTES || length > in.available()) {
            throw new IOException("bad byte string length " + length);
        }
        return in.readNBytes(length);
    }

    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    private static Message encode(Body body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            body.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return Message.valueOf(ByteString.copyFrom(bytes.toByteArray()));
    }
}
