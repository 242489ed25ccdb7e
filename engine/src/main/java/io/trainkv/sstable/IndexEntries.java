package io.trainkv.sstable;

import io.trainkv.util.Bytes;
import io.trainkv.util.KeyFormat;
import java.util.Arrays;

/**
 * A table's index block decoded once, at open, for searching without parsing: per index entry
 * (one per data block) the first 8 bytes of its separator's user key as an unsigned number, and
 * its block's offset and size. Searching the index block itself parsed an entry (three varints and
 * a key copy) at each of about 11 probes and allocated an iterator per look-up; here a probe reads
 * one {@code long}, the probes near the root stay in the CPU cache, and the separators' full keys
 * (in the heap copy of the index block) are compared only among entries whose 8-byte prefixes tie.
 * About 20 bytes per data block (0.5% of a table of 4 KiB blocks). Immutable, so thread-safe.
 */
final class IndexEntries {


    private final byte[] block;
    private final long[] prefixes;
    private final int[] keyAt;
    private final int[] keyLengths;
    private final long[] offsets;
    private final int[] sizes;

    private IndexEntries(byte[] block, long[] prefixes, int[] keyAt, int[] keyLengths, long[] offsets, int[] sizes) {
        this.block = block;
        this.prefixes = prefixes;
        this.keyAt = keyAt;
        this.keyLengths = keyLengths;
        this.offsets = offsets;
        this.sizes = sizes;
    }

    /**
     * Decodes the index block {@code index} (a heap buffer at position 0, walked by {@code it}) if
     * it has the writer's layout: one restart point per entry, each key stored whole, each value a
     * block handle lying before {@code dataEnd}. Otherwise null: the caller then searches the
     * block with an iterator, which reports what is wrong when a read reaches it.
     */
    static IndexEntries decode(BlockIterator it, byte[] index, long dataEnd) {
        int count = 0;
        int capacity = 16;
        long[] prefixes = new long[capacity];
        int[] keyAt = new int[capacity];
        int[] keyLengths = new int[capacity];
        long[] offsets = new long[capacity];
        int[] sizes = new int[capacity];
        for (it.seekToFirst(); it.valid(); it.next()) {
            int length = it.keyLength();
            int at = it.valueOffset() - length;
            if (it.restartIndex() != count || it.valueLength() != TableFormat.HANDLE_SIZE || at < 0
                    || !Arrays.equals(index, at, at + length, it.keyBuffer(), 0, length)) {
                return null;
            }
            long offset = Bytes.getLongBigEndian(index, it.valueOffset());
            int size = it.data().getInt(it.valueOffset() + 8);
            if (offset < 0 || size < 0 || size > TableFormat.MAX_BLOCK_SIZE
                    || offset + size + TableFormat.BLOCK_TRAILER_SIZE > dataEnd) {
                return null;
            }
            if (count == capacity) {
                capacity *= 2;
                prefixes = Arrays.copyOf(prefixes, capacity);
                keyAt = Arrays.copyOf(keyAt, capacity);
                keyLengths = Arrays.copyOf(keyLengths, capacity);
                offsets = Arrays.copyOf(offsets, capacity);
                sizes = Arrays.copyOf(sizes, capacity);
            }
            prefixes[count] = Bytes.keyPrefix(index, at, length - KeyFormat.VERSION_SIZE);
            keyAt[count] = at;
            keyLengths[count] = length;
            offsets[count] = offset;
            sizes[count] = size;
            count++;
        }
        return new IndexEntries(index, Arrays.copyOf(prefixes, count), Arrays.copyOf(keyAt, count),
                Arrays.copyOf(keyLengths, count), Arrays.copyOf(offsets, count), Arrays.copyOf(sizes, count));
    }

    /** Entries, one per data block. */
    int count() {
        return prefixes.length;
    }

    /** Offset in the file of entry {@code i}'s data block (bytes). */
    long offset(int i) {
        return offsets[i];
    }

    /** Size of entry {@code i}'s data block, its trailer excluded (bytes). */
    int size(int i) {
        return sizes[i];
    }

    /**
     * The first entry whose separator is at or after {@code (userKey, version)} in internal-key
     * order (its block is the only one that may hold that key or the next one), or {@link #count()}
     * if every separator is before it.
     */
    int find(byte[] userKey, long version) {
        long prefix = Bytes.keyPrefix(userKey, 0, userKey.length);
        int low = 0;
        int high = prefixes.length;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (Long.compareUnsigned(prefixes[mid], prefix) < 0) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        if (low == prefixes.length || prefixes[low] != prefix) {
            return low;
        }
        high = prefixes.length;
        for (int step = 1; low + step < high; step <<= 1) {
            if (prefixes[low + step] != prefix) {
                high = low + step;
                break;
            }
        }
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (compare(mid, userKey, version) < 0) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    /** Entry {@code i}'s separator against {@code (userKey, version)}, in internal-key order. */
    private int compare(int i, byte[] userKey, long version) {
        int at = keyAt[i];
        int userLength = keyLengths[i] - KeyFormat.VERSION_SIZE;
        int c = Arrays.compareUnsigned(block, at, at + userLength, userKey, 0, userKey.length);
        return c != 0 ? c : Long.compare(version, KeyFormat.getVersion(block, at + userLength));
    }
}
