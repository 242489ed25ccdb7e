package io.trainkv.sstable;

import io.trainkv.CorruptionException;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.Varint;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Walks the entries of one block built by {@link BlockBuilder}, in both directions, with seeks
 * that binary-search the restart points (LevelDB's block iterator). Every length decoded is checked
 * against the block, so damaged contents raise {@link CorruptionException} naming the file and
 * block offset instead of reading out of bounds. Not thread-safe.
 */
final class BlockIterator {

    private final ByteBuffer data;
    private final String fileName;
    private final long blockOffset;
    private final int restartsAt;
    private final int restartCount;

    private byte[] key = new byte[64];
    private int keyLength;
    private int current;
    private int next;
    private int restartIndex;
    private int valueAt;
    private int valueLength;
    /** Where {@link #varint()} reads next while an entry is parsed. */
    private int cursor;

    /** An iterator over {@code contents} (position 0, limit the contents size), not yet positioned. */
    BlockIterator(ByteBuffer contents, String fileName, long blockOffset) {
        this.data = contents;
        this.fileName = fileName;
        this.blockOffset = blockOffset;
        int size = contents.limit();
        if (size < 4) {
            throw corrupt("block of " + size + " bytes has no restart count");
        }
        this.restartCount = contents.getInt(size - 4);
        long restartBytes = 4L * restartCount + 4;
        if (restartCount < 1 || restartBytes > size) {
            throw corrupt("restart count " + restartCount + " does not fit a block of " + size + " bytes");
        }
        this.restartsAt = size - (int) restartBytes;
        this.current = restartsAt;
        this.next = restartsAt;
    }

    boolean valid() {
        return current < restartsAt;
    }

    void seekToFirst() {
        seekToRestart(0);
        parseNext();
    }

    void seekToLast() {
        seekToRestart(restartCount - 1);
        while (parseNext() && next < restartsAt) {
            // advance to the final entry
        }
    }

    void next() {
        parseNext();
    }

    void prev() {
        int original = current;
        while (restartPoint(restartIndex) >= original) {
            if (restartIndex == 0) {
                current = restartsAt;
                next = restartsAt;
                return;
            }
            restartIndex--;
        }
        seekToRestart(restartIndex);
        while (parseNext() && next < original) {
            // stop at the entry just before the original one
        }
    }

    /**
     * Positions at the entry of restart point {@code index} (in a block of one entry per restart,
     * the entry of that ordinal); past the last entry if {@code index} is the restart count.
     */
    void seekToEntry(int index) {
        if (index >= restartCount) {
            current = restartsAt;
            next = restartsAt;
            return;
        }
        seekToRestart(index);
        parseNext();
    }

    /** Positions at the first entry whose key is at or after {@code (userKey, version)}. */
    void seek(byte[] userKey, long version) {
        int low = 0;
        int high = restartCount - 1;
        while (low < high) {
            int mid = (low + high + 1) >>> 1;
            seekToRestart(mid);
            if (!parseNext()) {
                throw corrupt("restart point " + mid + " has no entry");
            }
            if (compareCurrent(userKey, version) < 0) {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        seekToRestart(low);
        while (parseNext() && compareCurrent(userKey, version) < 0) {
            // linear scan inside the restart interval
        }
    }

    /** Compares the current key with {@code (userKey, version)} in internal-key order. */
    int compareCurrent(byte[] userKey, long version) {
        int userLength = keyLength - KeyFormat.VERSION_SIZE;
        int c = Arrays.compareUnsigned(key, 0, userLength, userKey, 0, userKey.length);
        if (c != 0) {
            return c;
        }
        return Long.compare(version, KeyFormat.getVersion(key, userLength));
    }

    /** The current internal key bytes; valid up to {@link #keyLength()} until the iterator moves. */
    byte[] keyBuffer() {
        return key;
    }

    int keyLength() {
        return keyLength;
    }

    /** The restart point at or before the current entry (its ordinal in a block of one entry per restart). */
    int restartIndex() {
        return restartIndex;
    }

    /** The current value bytes as a buffer over the block (shared, position 0). */
    ByteBuffer value() {
        return data.duplicate().position(valueAt).limit(valueAt + valueLength).slice();
    }

    int valueOffset() {
        return valueAt;
    }

    int valueLength() {
        return valueLength;
    }

    ByteBuffer data() {
        return data;
    }

    private int restartPoint(int index) {
        return data.getInt(restartsAt + 4 * index);
    }

    private void seekToRestart(int index) {
        restartIndex = index;
        keyLength = 0;
        int offset = restartPoint(index);
        if (offset < 0 || offset > restartsAt) {
            throw corrupt("restart point " + index + " at " + offset + " is outside the entries");
        }
        next = offset;
    }

    private boolean parseNext() {
        current = next;
        if (current >= restartsAt) {
            current = restartsAt;
            return false;
        }
        cursor = current;
        int shared;
        int unshared;
        int length;
        try {
            shared = varint();
            unshared = varint();
            length = varint();
        } catch (IllegalArgumentException e) {
            throw corrupt("entry at " + current + ": " + e.getMessage());
        }
        if (shared < 0 || shared > keyLength || unshared < 0 || length < 0
                || (long) unshared + length > restartsAt - cursor
                || shared + unshared < KeyFormat.VERSION_SIZE + 1) {
            throw corrupt("entry at " + current + " has impossible lengths (shared " + shared + ", unshared "
                    + unshared + ", value " + length + ")");
        }
        int newLength = shared + unshared;
        if (key.length < newLength) {
            key = Arrays.copyOf(key, Math.max(newLength, 2 * key.length));
        }
        data.get(cursor, key, shared, unshared);
        keyLength = newLength;
        valueAt = cursor + unshared;
        valueLength = length;
        next = valueAt + length;
        while (restartIndex + 1 < restartCount && restartPoint(restartIndex + 1) <= current) {
            restartIndex++;
        }
        return true;
    }

    /**
     * Reads the varint at {@link #cursor}, which must end before the restart array, and moves the
     * cursor past it. One-byte varints (every length below 128) are read in place.
     *
     * @throws IllegalArgumentException if the varint is malformed or runs into the restart array
     */
    private int varint() {
        int at = cursor;
        if (at < restartsAt) {
            byte b = data.get(at);
            if (b >= 0) {
                cursor = at + 1;
                return b;
            }
        }
        ByteBuffer in = data.duplicate().position(at).limit(restartsAt);
        int value = Varint.get(in);
        cursor = in.position();
        return value;
    }

    private CorruptionException corrupt(String reason) {
        return new CorruptionException(fileName, blockOffset, "table " + fileName + ", block at offset "
                + blockOffset + ": " + reason);
    }
}
