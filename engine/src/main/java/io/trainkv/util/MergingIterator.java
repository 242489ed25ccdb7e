package io.trainkv.util;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Merges child iterators of one direction into one stream in that direction. When several
 * children stand on the same internal key (the same key and version reached through two sources,
 * for example a memtable and the table it was just flushed to) the child listed first wins and the
 * others are skipped, so callers list newer sources first.
 *
 * <p>The valid children sit in a binary heap ordered by their current key in the iterator's
 * direction, ties going to the child listed first; the heap's root is the current entry. A step
 * costs a few key comparisons however many children there are (level-0 sublevels can be many):
 * one to see whether another child stands on the same key, two to sift the advanced child down,
 * which stops at once while that child keeps leading. The heap is an array of child positions, so
 * a step allocates nothing.
 */
public final class MergingIterator implements InternalIterator {

    private final InternalIterator[] children;
    private final boolean reverse;
    /** Positions in {@link #children} of the valid children, heap-ordered by {@link #before}. */
    private final int[] heap;
    private int size;
    /** Children whose seek is put off and not yet resolved (none but after a seek). */
    private int deferred;
    /** Whether the last seek put children off behind a newer child's version of the sought key. */
    private boolean deferredBehindNewerVersion;

    public MergingIterator(List<InternalIterator> children, boolean reverse) {
        this.children = children.toArray(new InternalIterator[0]);
        this.reverse = reverse;
        this.heap = new int[this.children.length];
    }

    @Override
    public boolean valid() {
        return size > 0;
    }

    @Override
    public void seekToFirst() {
        deferred = 0;
        deferredBehindNewerVersion = false;
        for (InternalIterator child : children) {
            child.seekToFirst();
        }
        rebuild();
    }

    /**
     * Seeks every child, letting each put its seek off ({@link InternalIterator#seekOrDefer}):
     * a deferred child's placeholder sorts after every entry of the sought key, so only the
     * children that hold the key read a block now, and the rest when the walk gets past it.
     * Forward, once a child (children are listed newest first) stands on a version of the sought
     * key, every later child puts its seek off too
     * ({@link InternalIterator#deferSeekBehindNewerVersion}): a point-like seek of a key that
     * every level holds (after overwrites) then reads one block, not one per level. Those
     * children are resolved together at the first {@link #next()}, so that a copy of one version
     * in two of them is skipped as a duplicate like any other.
     */
    @Override
    public void seek(byte[] userKey, long version) {
        deferred = 0;
        deferredBehindNewerVersion = false;
        long newestFound = -1; // the version of the sought key a newer child stands on, if any
        for (InternalIterator child : children) {
            if (newestFound >= 0) {
                child.deferSeekBehindNewerVersion(userKey, version, newestFound);
                deferredBehindNewerVersion |= child.seekDeferred();
            } else {
                child.seekOrDefer(userKey, version);
            }
            if (child.seekDeferred()) {
                deferred++;
            } else if (newestFound < 0 && !reverse && child.standsOn(userKey)) {
                newestFound = KeyFormat.getVersion(child.keyBuffer(), userKey.length);
            }
        }
        rebuild();
    }

    @Override
    public void next() {
        if (deferredBehindNewerVersion) {
            resolveEveryDeferred();
        }
        InternalIterator top = children[heap[0]];
        skipDuplicatesOf(top);
        top.next();
        if (top.valid()) {
            siftDown(0);
        } else {
            removeAt(0);
        }
        resolveFront();
    }

    @Override
    public byte[] keyBuffer() {
        return children[heap[0]].keyBuffer();
    }

    @Override
    public int keyLength() {
        return children[heap[0]].keyLength();
    }

    @Override
    public ValueStruct value() {
        return children[heap[0]].value();
    }

    @Override
    public ByteBuffer valueBuffer() {
        return children[heap[0]].valueBuffer();
    }

    @Override
    public int valueOffset() {
        return children[heap[0]].valueOffset();
    }

    @Override
    public int valueSize() {
        return children[heap[0]].valueSize();
    }

    @Override
    public void close() {
        for (InternalIterator child : children) {
            child.close();
        }
    }

    /**
     * Moves every other child standing on {@code top}'s internal key past it. Such a child, if
     * any, is the least of the others, so it is a child of the root.
     */
    private void skipDuplicatesOf(InternalIterator top) {
        while (size > 1) {
            int second = size > 2 && before(heap[2], heap[1]) ? 2 : 1;
            InternalIterator other = children[heap[second]];
            if (compare(other, top) != 0) {
                return;
            }
            other.next();
            if (other.valid()) {
                siftDown(second);
            } else {
                removeAt(second);
            }
        }
    }

    private void rebuild() {
        size = 0;
        for (int i = 0; i < children.length; i++) {
            if (children[i].valid()) {
                heap[size++] = i;
            }
        }
        for (int at = size / 2 - 1; at >= 0; at--) {
            siftDown(at);
        }
        resolveFront();
    }

    /** Resolves every deferred seek and orders the heap again (the front stays where it was). */
    private void resolveEveryDeferred() {
        deferredBehindNewerVersion = false;
        for (InternalIterator child : children) {
            if (child.seekDeferred()) {
                child.resolveSeek();
            }
        }
        deferred = 0;
        rebuild();
    }

    /** Resolves deferred seeks while a placeholder is at the front, so that the front is a real entry. */
    private void resolveFront() {
        while (deferred > 0 && size > 0 && children[heap[0]].seekDeferred()) {
            InternalIterator top = children[heap[0]];
            top.resolveSeek();
            deferred--;
            if (top.valid()) {
                siftDown(0);
            } else {
                removeAt(0);
            }
        }
    }

    /**
     * Drops the heap entry at {@code at}, which is the root or a child of the root: the last
     * entry, which no longer precedes the root, takes its place and sinks.
     */
    private void removeAt(int at) {
        size--;
        if (at < size) {
            heap[at] = heap[size];
            siftDown(at);
        }
    }

    private void siftDown(int at) {
        int moving = heap[at];
        while (true) {
            int child = 2 * at + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && before(heap[child + 1], heap[child])) {
                child++;
            }
            if (!before(heap[child], moving)) {
                break;
            }
            heap[at] = heap[child];
            at = child;
        }
        heap[at] = moving;
    }

    /** Whether child {@code a} comes before child {@code b}: its key first in this direction, or the same key and listed first. */
    private boolean before(int a, int b) {
        int c = compare(children[a], children[b]);
        if (c != 0) {
            return reverse ? c > 0 : c < 0;
        }
        return a < b;
    }

    private static int compare(InternalIterator a, InternalIterator b) {
        return KeyFormat.compare(a.keyBuffer(), 0, a.keyLength(), b.keyBuffer(), 0, b.keyLength());
    }
}
