package io.trainkv.sstable;

import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.util.Arrays;

/**
 * Iterates a table's entries in internal-key order, either way: an index-block iterator chooses
 * the data block, a data-block iterator walks it. Not thread-safe; valid while the table is open.
 */
public final class TableIterator {

    private final TableReader table;
    private final BlockIterator index;
    private BlockIterator data;

    TableIterator(TableReader table, BlockIterator index) {
        this.table = table;
        this.index = index;
    }

    public boolean valid() {
        return data != null && data.valid();
    }

    public void seekToFirst() {
        index.seekToFirst();
        openBlock(true);
    }

    public void seekToLast() {
        index.seekToLast();
        openBlock(false);
    }

    /** Positions at the first entry at or after {@code (userKey, version)}. */
    public void seek(byte[] userKey, long version) {
        index.seek(userKey, version);
        if (!index.valid()) {
            data = null;
            return;
        }
        data = table.dataBlock(index);
        data.seek(userKey, version);
        skipEmptyForward();
    }

    /** Positions at the last entry at or before {@code (userKey, version)}. */
    public void seekForPrev(byte[] userKey, long version) {
        seek(userKey, version);
        if (!valid()) {
            seekToLast();
        } else if (data.compareCurrent(userKey, version) == 0) {
            return;
        }
        while (valid() && data.compareCurrent(userKey, version) > 0) {
            prev();
        }
    }

    public void next() {
        data.next();
        skipEmptyForward();
    }

    public void prev() {
        data.prev();
        skipEmptyBackward();
    }

    /** The current user key, copied. */
    public byte[] userKey() {
        return Arrays.copyOf(data.keyBuffer(), data.keyLength() - KeyFormat.VERSION_SIZE);
    }

    public long version() {
        return KeyFormat.getVersion(data.keyBuffer(), data.keyLength() - KeyFormat.VERSION_SIZE);
    }

    /** Compares the current key with {@code (userKey, version)} in internal-key order. */
    public int compareTo(byte[] userKey, long version) {
        return data.compareCurrent(userKey, version);
    }

    /** The current internal key bytes; valid up to {@link #keyLength()} until the iterator moves. */
    public byte[] keyBuffer() {
        return data.keyBuffer();
    }

    public int keyLength() {
        return data.keyLength();
    }

    public ValueStruct value() {
        return table.decodeValue(data);
    }

    private void openBlock(boolean first) {
        if (!index.valid()) {
            data = null;
            return;
        }
        data = table.dataBlock(index);
        if (first) {
            data.seekToFirst();
            skipEmptyForward();
        } else {
            data.seekToLast();
            skipEmptyBackward();
        }
    }

    private void skipEmptyForward() {
        while (data != null && !data.valid()) {
            index.next();
            if (!index.valid()) {
                data = null;
                return;
            }
            data = table.dataBlock(index);
            data.seekToFirst();
        }
    }

    private void skipEmptyBackward() {
        while (data != null && !data.valid()) {
            index.prev();
            if (!index.valid()) {
                data = null;
                return;
            }
            data = table.dataBlock(index);
            data.seekToLast();
        }
    }
}
