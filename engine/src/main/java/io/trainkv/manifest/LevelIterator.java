package io.trainkv.manifest;

import io.trainkv.util.Bytes;
import io.trainkv.util.InternalIterator;
import io.trainkv.util.ValueStruct;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Iterates a sorted level (or any key-ordered, non-overlapping run of tables) as one sequence,
 * opening a table's iterator only when the walk reaches it. A seek binary-searches the tables by
 * key range, so it reads one table instead of all of them. It holds one table's iterator (and
 * so one table's file) at a time, until {@link #close()}.
 */
public final class LevelIterator implements InternalIterator {

    private final List<TableHandle> tables;
    private final boolean reverse;
    private final boolean fillCache;
    private int tableIndex = -1;
    private InternalIterator current;

    /** {@code tables} must be sorted by key and not overlap. */
    public LevelIterator(List<TableHandle> tables, boolean reverse) {
        this(tables, reverse, true);
    }

    /** As above; with {@code fillCache} false the blocks read do not enter the block cache. */
    public LevelIterator(List<TableHandle> tables, boolean reverse, boolean fillCache) {
        this.tables = List.copyOf(tables);
        this.reverse = reverse;
        this.fillCache = fillCache;
    }

    @Override
    public boolean valid() {
        return current != null && current.valid();
    }

    @Override
    public void seekToFirst() {
        open(reverse ? tables.size() - 1 : 0);
        if (current != null) {
            current.seekToFirst();
        }
        skipExhausted();
    }

    @Override
    public void seek(byte[] userKey, long version) {
        open(reverse ? lastStartingAtOrBefore(userKey) : firstEndingAtOrAfter(userKey));
        if (current != null) {
            current.seek(userKey, version);
        }
        skipExhausted();
    }

    @Override
    public void next() {
        current.next();
        skipExhausted();
    }

    @Override
    public byte[] keyBuffer() {
        return current.keyBuffer();
    }

    @Override
    public int keyLength() {
        return current.keyLength();
    }

    @Override
    public ValueStruct value() {
        return current.value();
    }

    @Override
    public ByteBuffer valueBuffer() {
        return current.valueBuffer();
    }

    @Override
    public int valueOffset() {
        return current.valueOffset();
    }

    @Override
    public int valueSize() {
        return current.valueSize();
    }

    private void skipExhausted() {
        while (current != null && !current.valid()) {
            open(reverse ? tableIndex - 1 : tableIndex + 1);
            if (current != null) {
                current.seekToFirst();
            }
        }
    }

    /**
     * Makes the table at {@code index} current (none outside the level), closing the previous
     * table's iterator so that only one table of the level is pinned at a time.
     */
    private void open(int index) {
        if (index == tableIndex && current != null) {
            return;
        }
        close();
        tableIndex = index;
        current = index >= 0 && index < tables.size() ? tables.get(index).reader().iterator(reverse, fillCache) : null;
    }

    @Override
    public void close() {
        if (current != null) {
            current.close();
            current = null;
        }
    }

    /** The first table whose largest key is at or after {@code userKey} (size if none). */
    private int firstEndingAtOrAfter(byte[] userKey) {
        int low = 0;
        int high = tables.size();
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (Bytes.compare(tables.get(mid).meta().largestUserKey(), userKey) < 0) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    /** The last table whose smallest key is at or before {@code userKey} (-1 if none). */
    private int lastStartingAtOrBefore(byte[] userKey) {
        int low = 0;
        int high = tables.size();
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (Bytes.compare(tables.get(mid).meta().smallestUserKey(), userKey) <= 0) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low - 1;
    }
}
