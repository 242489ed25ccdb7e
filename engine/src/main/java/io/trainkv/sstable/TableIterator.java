package io.trainkv.sstable;

import io.trainkv.storage.ReadSource;
import io.trainkv.util.InternalIterator;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Iterates a table's entries in internal-key order or its reverse: an index-block iterator chooses
 * the data block, a data-block iterator walks it. Not thread-safe; valid while the table is open.
 * It pins the table's file from creation to {@link #close()}, so that a {@link TableCache} never
 * closes the file under a block it reads.
 */
public final class TableIterator implements InternalIterator {

    private final TableReader table;
    private final ReadSource source;
    private final BlockIterator index;
    private final boolean reverse;
    private final boolean fillCache;
    private BlockIterator data;
    private boolean closed;

    /** An iterator holding {@code source}, a pin of the table's file that {@link #close()} ends. */
    TableIterator(TableReader table, ReadSource source, BlockIterator index, boolean reverse, boolean fillCache) {
        this.table = table;
        this.source = source;
        this.index = index;
        this.reverse = reverse;
        this.fillCache = fillCache;
    }

    @Override
    public boolean valid() {
        return data != null && data.valid();
    }

    @Override
    public void seekToFirst() {
        if (reverse) {
            index.seekToLast();
            openBlock(false);
        } else {
            index.seekToFirst();
            openBlock(true);
        }
    }

    @Override
    public void seek(byte[] userKey, long version) {
        seekAtLeast(userKey, version);
        if (!reverse) {
            return;
        }
        if (!valid()) {
            index.seekToLast();
            openBlock(false);
        } else if (data.compareCurrent(userKey, version) > 0) {
            backward();
        }
    }

    @Override
    public void next() {
        if (reverse) {
            backward();
        } else {
            data.next();
            skipEmptyForward();
        }
    }

    /** The current user key, copied. */
    public byte[] userKey() {
        return Arrays.copyOf(data.keyBuffer(), data.keyLength() - KeyFormat.VERSION_SIZE);
    }

    public long version() {
        return KeyFormat.getVersion(data.keyBuffer(), data.keyLength() - KeyFormat.VERSION_SIZE);
    }

    @Override
    public byte[] keyBuffer() {
        return data.keyBuffer();
    }

    @Override
    public int keyLength() {
        return data.keyLength();
    }

    @Override
    public ValueStruct value() {
        return table.decodeValue(data);
    }

    /** The data block itself: a read-only view of the mapping, or a heap block. */
    @Override
    public ByteBuffer valueBuffer() {
        return data.data();
    }

    @Override
    public int valueOffset() {
        return data.valueOffset();
    }

    @Override
    public int valueSize() {
        return table.valueSize(data);
    }

    private void seekAtLeast(byte[] userKey, long version) {
        table.seekIndex(index, userKey, version);
        if (!index.valid()) {
            data = null;
            return;
        }
        data = table.dataBlock(source, index, fillCache);
        data.seek(userKey, version);
        skipEmptyForward();
    }

    private void backward() {
        data.prev();
        skipEmptyBackward();
    }

    private void openBlock(boolean first) {
        if (!index.valid()) {
            data = null;
            return;
        }
        data = table.dataBlock(source, index, fillCache);
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
            data = table.dataBlock(source, index, fillCache);
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
            data = table.dataBlock(source, index, fillCache);
            data.seekToLast();
        }
    }

    /** Ends the iterator's pin of the table's file; idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            data = null;
            table.unpin();
        }
    }
}
