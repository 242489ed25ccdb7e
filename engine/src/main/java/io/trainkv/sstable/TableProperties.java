package io.trainkv.sstable;

import io.trainkv.CorruptionException;
import io.trainkv.util.ByteOutput;
import io.trainkv.util.KeyFormat;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a table holds, stored in its properties block so that the manifest, compaction and tools
 * can learn it without scanning:
 * <pre>
 * entryCount(8) tombstoneCount(8) dataBlockCount(4) minVersion(8) maxVersion(8)
 * smallestKeyLength(4) smallestKey largestKeyLength(4) largestKey
 * valueLogFileCount(4) { valueLogFileId(8) referencedBytes(8) }*
 * </pre>
 * Keys are internal keys (user key + version).
 */
public final class TableProperties {

    private final long entryCount;
    private final long tombstoneCount;
    private final int dataBlockCount;
    private final long minVersion;
    private final long maxVersion;
    private final byte[] smallestKey;
    private final byte[] largestKey;
    private final Map<Long, Long> valueLogBytes;

    TableProperties(long entryCount, long tombstoneCount, int dataBlockCount, long minVersion, long maxVersion,
                    byte[] smallestKey, byte[] largestKey, Map<Long, Long> valueLogBytes) {
        this.entryCount = entryCount;
        this.tombstoneCount = tombstoneCount;
        this.dataBlockCount = dataBlockCount;
        this.minVersion = minVersion;
        this.maxVersion = maxVersion;
        this.smallestKey = smallestKey;
        this.largestKey = largestKey;
        this.valueLogBytes = Collections.unmodifiableMap(new TreeMap<>(valueLogBytes));
    }

    public long entryCount() {
        return entryCount;
    }

    public long tombstoneCount() {
        return tombstoneCount;
    }

    public int dataBlockCount() {
        return dataBlockCount;
    }

    public long minVersion() {
        return minVersion;
    }

    public long maxVersion() {
        return maxVersion;
    }

    /** The first internal key in the table. */
    public byte[] smallestKey() {
        return smallestKey.clone();
    }

    /** The last internal key in the table. */
    public byte[] largestKey() {
        return largestKey.clone();
    }

    /** Bytes of values the table points to, per value-log file id (empty until the value log exists). */
    public Map<Long, Long> valueLogBytes() {
        return valueLogBytes;
    }

    /** Bytes of the encoded block for keys of these lengths and {@code valueLogFiles} value-log files. */
    static long encodedSize(int smallestKeyLength, int largestKeyLength, int valueLogFiles) {
        return 8 + 8 + 4 + 8 + 8 + 4L + smallestKeyLength + 4L + largestKeyLength + 4 + 16L * valueLogFiles;
    }

    void encode(ByteOutput out) {
        out.writeLong(entryCount).writeLong(tombstoneCount).writeInt(dataBlockCount);
        out.writeLong(minVersion).writeLong(maxVersion);
        out.writeInt(smallestKey.length).write(smallestKey);
        out.writeInt(largestKey.length).write(largestKey);
        out.writeInt(valueLogBytes.size());
        for (Map.Entry<Long, Long> e : valueLogBytes.entrySet()) {
            out.writeLong(e.getKey()).writeLong(e.getValue());
        }
    }

    static TableProperties decode(ByteBuffer in, String fileName, long blockOffset) {
        try {
            long entries = in.getLong();
            long tombstones = in.getLong();
            int blocks = in.getInt();
            long minVersion = in.getLong();
            long maxVersion = in.getLong();
            byte[] smallest = KeyFormat.readLengthPrefixed(in);
            byte[] largest = KeyFormat.readLengthPrefixed(in);
            int files = in.getInt();
            if (files < 0 || (long) files * 16 > in.remaining()) {
                throw new IllegalArgumentException("value-log file count " + files + " does not fit");
            }
            Map<Long, Long> refs = new TreeMap<>();
            for (int i = 0; i < files; i++) {
                refs.put(in.getLong(), in.getLong());
            }
            if (entries < 1 || tombstones < 0 || tombstones > entries || blocks < 1 || minVersion > maxVersion
                    || KeyFormat.compare(smallest, largest) > 0 || in.hasRemaining()) {
                throw new IllegalArgumentException("inconsistent properties");
            }
            return new TableProperties(entries, tombstones, blocks, minVersion, maxVersion, smallest, largest, refs);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new CorruptionException(fileName, blockOffset, "table " + fileName + ", properties block at offset "
                    + blockOffset + ": " + (e.getMessage() == null ? "truncated" : e.getMessage()), e);
        }
    }
}
