package io.trainkv.sstable;

import io.trainkv.util.ByteOutput;
import java.util.Arrays;

/**
 * Builds one block: entries with keys prefix-compressed against the previous key, and a full key
 * every {@code restartInterval} entries (a restart point) whose offsets are listed at the end so
 * that readers can binary-search them. Layout:
 * <pre>
 * entry    := shared(varint) unshared(varint) valueLength(varint) keySuffix(unshared) value
 * contents := entry* restartOffset(4)* restartCount(4)
 * </pre>
 * Keys must be added in increasing order. Not thread-safe.
 */
final class BlockBuilder {

    private final int restartInterval;
    private final ByteOutput out = new ByteOutput(8 * 1024);
    private int[] restarts = new int[16];
    private int restartCount;
    private int sinceRestart;
    private byte[] lastKey = new byte[64];
    private int lastKeyLength;
    private int entries;

    BlockBuilder(int restartInterval) {
        this.restartInterval = restartInterval;
        reset();
    }

    void reset() {
        out.reset();
        restartCount = 0;
        addRestart(0);
        sinceRestart = 0;
        lastKeyLength = 0;
        entries = 0;
    }

    boolean isEmpty() {
        return entries == 0;
    }

    /** Bytes the finished contents would take now. */
    int estimatedSize() {
        return out.size() + 4 * restartCount + 4;
    }

    /** Appends an entry whose value is the concatenation of {@code valueHeader} and {@code value}. */
    void add(byte[] key, int keyLength, byte[] valueHeader, int headerLength, byte[] value) {
        int shared = 0;
        if (sinceRestart == restartInterval) {
            addRestart(out.size());
            sinceRestart = 0;
        } else {
            int max = Math.min(lastKeyLength, keyLength);
            int mismatch = Arrays.mismatch(lastKey, 0, max, key, 0, max);
            shared = mismatch < 0 ? max : mismatch;
        }
        out.writeVarint(shared).writeVarint(keyLength - shared).writeVarint(headerLength + value.length);
        out.write(key, shared, keyLength - shared);
        out.write(valueHeader, 0, headerLength);
        out.write(value);
        if (lastKey.length < keyLength) {
            lastKey = Arrays.copyOf(lastKey, Math.max(keyLength, 2 * lastKey.length));
        }
        System.arraycopy(key, shared, lastKey, shared, keyLength - shared);
        lastKeyLength = keyLength;
        sinceRestart++;
        entries++;
    }

    /** Appends the restart array and returns the finished contents; valid until the next call. */
    ByteOutput finish() {
        for (int i = 0; i < restartCount; i++) {
            out.writeInt(restarts[i]);
        }
        out.writeInt(restartCount);
        return out;
    }

    private void addRestart(int offset) {
        if (restartCount == restarts.length) {
            restarts = Arrays.copyOf(restarts, 2 * restarts.length);
        }
        restarts[restartCount++] = offset;
    }
}
