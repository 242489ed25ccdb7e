package io.trainkv.manifest;

import io.trainkv.util.Bytes;
import io.trainkv.util.KeyFormat;

/**
 * What the manifest records about one table file: its number, size and key range (internal keys).
 * Immutable.
 */
public final class TableMeta {

    private final long fileNumber;
    private final long fileSize;
    private final byte[] smallestKey;
    private final byte[] largestKey;
    private final byte[] smallestUserKey;
    private final byte[] largestUserKey;

    public TableMeta(long fileNumber, long fileSize, byte[] smallestKey, byte[] largestKey) {
        if (smallestKey.length <= KeyFormat.VERSION_SIZE || largestKey.length <= KeyFormat.VERSION_SIZE) {
            throw new IllegalArgumentException("table keys must be internal keys");
        }
        this.fileNumber = fileNumber;
        this.fileSize = fileSize;
        this.smallestKey = smallestKey.clone();
        this.largestKey = largestKey.clone();
        this.smallestUserKey = KeyFormat.userKey(smallestKey);
        this.largestUserKey = KeyFormat.userKey(largestKey);
    }

    public long fileNumber() {
        return fileNumber;
    }

    public long fileSize() {
        return fileSize;
    }

    /** The smallest internal key; do not modify. */
    public byte[] smallestKey() {
        return smallestKey;
    }

    /** The largest internal key; do not modify. */
    public byte[] largestKey() {
        return largestKey;
    }

    /** The user key of {@link #smallestKey()}; do not modify. */
    public byte[] smallestUserKey() {
        return smallestUserKey;
    }

    /** The user key of {@link #largestKey()}; do not modify. */
    public byte[] largestUserKey() {
        return largestUserKey;
    }

    /** Whether the table's user-key range intersects {@code [from, to]} (null = unbounded). */
    public boolean overlapsUserRange(byte[] from, byte[] to) {
        if (to != null && Bytes.compare(smallestUserKey(), to) > 0) {
            return false;
        }
        return from == null || Bytes.compare(largestUserKey(), from) >= 0;
    }

    @Override
    public String toString() {
        return "table " + fileNumber + " (" + fileSize + " bytes, " + Bytes.escape(smallestUserKey()) + "@"
                + KeyFormat.version(smallestKey) + " .. " + Bytes.escape(largestUserKey()) + "@"
                + KeyFormat.version(largestKey) + ")";
    }
}
