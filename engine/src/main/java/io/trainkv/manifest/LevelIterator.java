package io.trainkv.manifest;

import io.trainkv.util.Bytes;
import io.trainkv.util.InternalIterator;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.nio.ByteBuffer;
import java.util.Arrays;
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
    /**
     * Set while a seek is put off ({@link #seekOrDefer}): {@link #placeholder} then holds the
     * sought user key ‖ the placeholder version, {@link #deferredVersion} the version sought.
     */
    private boolean deferred;
    private byte[] placeholder = new byte[32];
    private int placeholderLength;
    private long deferredVersion;

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
        return deferred || (current != null && current.valid());
    }

    @Override
    public void seekToFirst() {
        deferred = false;
        open(reverse ? tables.size() - 1 : 0);
        if (current != null) {
            current.seekToFirst();
        }
        skipExhausted();
    }

    @Override
    public void seek(byte[] userKey, long version) {
        deferred = false;
        open(reverse ? lastStartingAtOrBefore(userKey) : firstEndingAtOrAfter(userKey));
        if (current != null) {
            current.seek(userKey, version);
        }
        skipExhausted();
    }

    /**
     * Puts the seek off when the one table it would read holds no version of {@code userKey} by
     * its bloom filter. That table then still holds an entry past the key (its largest key is at
     * or after it forward, its smallest at or before it reverse, and neither is the key), so the
     * level is not exhausted and the placeholder is a true bound.
     */
    @Override
    public void seekOrDefer(byte[] userKey, long version) {
        int index = reverse ? lastStartingAtOrBefore(userKey) : firstEndingAtOrAfter(userKey);
        if (index < 0 || index >= tables.size() || tables.get(index).reader().mayContain(userKey)) {
            seek(userKey, version);
            return;
        }
        defer(userKey, version);
    }

    /** Forward only; a level that turns out to hold nothing at or past the key resolves to invalid. */
    @Override
    public void deferSeekBehindNewerVersion(byte[] userKey, long version, long newerVersion) {
        if (reverse) {
            seekOrDefer(userKey, version);
        } else {
            defer(userKey, Math.min(version, newerVersion - 1));
        }
    }

    private void defer(byte[] userKey, long version) {
        placeholderLength = userKey.length + KeyFormat.VERSION_SIZE;
        if (placeholder.length < placeholderLength) {
            placeholder = new byte[Math.max(placeholderLength, 2 * placeholder.length)];
        }
        System.arraycopy(userKey, 0, placeholder, 0, userKey.length);
        KeyFormat.putVersion(placeholder, userKey.length, reverse ? Long.MAX_VALUE : 0);
        deferredVersion = version;
        deferred = true;
    }

    @Override
    public boolean seekDeferred() {
        return deferred;
    }

    @Override
    public void resolveSeek() {
        if (deferred) {
            seek(Arrays.copyOf(placeholder, placeholderLength - KeyFormat.VERSION_SIZE), deferredVersion);
        }
    }

    @Override
    public void next() {
        current.next();
        skipExhausted();
    }

    @Override
    public byte[] keyBuffer() {
        return deferred ? placeholder : current.keyBuffer();
    }

    @Override
    public int keyLength() {
        return deferred ? placeholderLength : current.keyLength();
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
