package io.trainkv.util;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Merges child iterators of one direction into one stream in that direction. When several
 * children stand on the same internal key (the same key and version reached through two sources,
 * for example a memtable and the table it was just flushed to) the child listed first wins and the
 * others are skipped, so callers list newer sources first. The children are few (memtables, level-0
 * tables, one per deeper level), so a linear scan picks the next one; they are held in an array,
 * so that a step allocates nothing.
 */
public final class MergingIterator implements InternalIterator {

    private final InternalIterator[] children;
    private final boolean reverse;
    private InternalIterator current;

    public MergingIterator(List<InternalIterator> children, boolean reverse) {
        this.children = children.toArray(new InternalIterator[0]);
        this.reverse = reverse;
    }

    @Override
    public boolean valid() {
        return current != null;
    }

    @Override
    public void seekToFirst() {
        for (InternalIterator child : children) {
            child.seekToFirst();
        }
        pickCurrent();
    }

    @Override
    public void seek(byte[] userKey, long version) {
        for (InternalIterator child : children) {
            child.seek(userKey, version);
        }
        pickCurrent();
    }

    @Override
    public void next() {
        InternalIterator advancing = current;
        for (InternalIterator child : children) {
            if (child != advancing && child.valid() && compare(child, advancing) == 0) {
                child.next();
            }
        }
        advancing.next();
        pickCurrent();
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

    @Override
    public void close() {
        for (InternalIterator child : children) {
            child.close();
        }
    }

    private void pickCurrent() {
        InternalIterator best = null;
        for (InternalIterator child : children) {
            if (child.valid() && (best == null || order(child, best) < 0)) {
                best = child;
            }
        }
        current = best;
    }

    /** Negative when {@code a} comes before {@code b} in this iterator's direction. */
    private int order(InternalIterator a, InternalIterator b) {
        int c = compare(a, b);
        return reverse ? -c : c;
    }

    private static int compare(InternalIterator a, InternalIterator b) {
        return KeyFormat.compare(a.keyBuffer(), 0, a.keyLength(), b.keyBuffer(), 0, b.keyLength());
    }
}
