package io.trainkv.memtable;

import io.trainkv.util.InternalIterator;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The in-memory write buffer: a concurrent skip list of versioned keys whose nodes, keys and values
 * all live in an {@link Arena}, in the manner of LevelDB's and Badger's arena skip lists.
 *
 * <p>Node layout, at a 4-aligned arena offset (ints big-endian):
 * <pre>
 *   +0   keyLength     internal key length (user key + 8-byte version)
 *   +4   valueLength   encoded {@link ValueStruct} length
 *   +8   height        tower height, 1..{@value #MAX_HEIGHT}
 *   +12  tower[height] offsets of the next node at each level ({@link Arena#NULL} at the end)
 *   ...  key bytes, then value bytes
 * </pre>
 * Entries order by {@link KeyFormat}: user key ascending, version descending.
 *
 * <p>Concurrency: readers never lock; inserts link nodes bottom-up with CAS on tower links through a
 * {@link VarHandle}, so concurrent inserts are safe. A node becomes visible at level 0 only after
 * its key and value bytes are written. Entries are never removed; a memtable is dropped whole.
 *
 * <p>Insert hint: the memtable keeps the splice (the nodes before and after, at every level) of
 * its last insert. When the new key falls between the splice's two level-0 nodes (keys written
 * in ascending order: a sequential load, or a batch of ascending keys) the insert links there
 * after two comparisons instead of a descent from the head; any other key descends from the head.
 * Only level 0 is checked: checking higher levels would cost a cache miss per level on random
 * keys, for a descent that starts only a few levels lower.
 * Concurrent inserters share the one hint by taking it: whoever finds it taken searches from
 * the head with a splice of its own thread. Because nodes are never removed, a stale hint is
 * never wrong, only less useful: every link is still made by CAS against the current successor.
 */
public final class MemTable {

    /** Tallest tower; with branching factor 4 this suits tens of millions of entries. */
    static final int MAX_HEIGHT = 16;
    private static final int BRANCHING = 4;

    private static final int KEY_LENGTH = 0;
    private static final int VALUE_LENGTH = 4;
    private static final int HEIGHT = 8;
    private static final int TOWER = 12;

    private static final VarHandle LINK = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    /** Per-thread scratch arrays for inserts, so that a put allocates nothing but arena bytes. */
    private static final ThreadLocal<Splice> SPLICES = ThreadLocal.withInitial(Splice::new);

    /** Default arena chunk: 1 MiB. */
    public static final int DEFAULT_CHUNK_BITS = 20;

    private final Arena arena;
    private final int head;
    /** The last insert's splice, null while an insert holds it; see the class comment. */
    private final AtomicReference<Splice> hint = new AtomicReference<>(new Splice());
    private final AtomicInteger listHeight = new AtomicInteger(1);
    private final long walNumber;

    /** An empty memtable backed by write-ahead log file {@code walNumber}. */
    public MemTable(long walNumber) {
        this(walNumber, DEFAULT_CHUNK_BITS);
    }

    /** An empty memtable whose arena grows in chunks of {@code 2^chunkBits} bytes. */
    public MemTable(long walNumber, int chunkBits) {
        this.walNumber = walNumber;
        this.arena = new Arena(chunkBits);
        this.head = arena.allocate(TOWER + 4 * MAX_HEIGHT);
        ByteBuffer buffer = arena.buffer(head);
        int p = arena.position(head);
        buffer.putInt(p + KEY_LENGTH, 0);
        buffer.putInt(p + VALUE_LENGTH, 0);
        buffer.putInt(p + HEIGHT, MAX_HEIGHT);
    }

    /** The number of the write-ahead log file that holds this memtable's writes. */
    public long walNumber() {
        return walNumber;
    }

    /** Whether nothing has been inserted. */
    public boolean isEmpty() {
        return getLink(head, 0) == Arena.NULL;
    }

    /** Arena bytes in use: the figure compared with the memtable size limit. */
    public long sizeBytes() {
        return arena.usedBytes();
    }

    /** Bytes an entry of these sizes takes in the arena at the tallest tower, for admission checks. */
    public static long maxEntryFootprint(int userKeyLength, int valueLength) {
        return TOWER + 4L * MAX_HEIGHT + userKeyLength + KeyFormat.VERSION_SIZE
                + ValueStruct.MAX_HEADER_SIZE + valueLength + Arena.ALIGNMENT;
    }

    /**
     * Inserts {@code (userKey, version) -> (meta, userMeta, expiresAt, value)}.
     *
     * @return false, without inserting, if that exact key and version is already present
     */
    public boolean put(byte[] userKey, long version, byte meta, byte userMeta, long expiresAtMillis, byte[] value) {
        int height = randomHeight();
        int keyLength = userKey.length + KeyFormat.VERSION_SIZE;
        int valueLength = ValueStruct.headerSize(meta, userMeta, expiresAtMillis) + value.length;
        int node = arena.allocate(TOWER + 4 * height + keyLength + valueLength);
        ByteBuffer buffer = arena.buffer(node);
        int p = arena.position(node);
        buffer.putInt(p + KEY_LENGTH, keyLength);
        buffer.putInt(p + VALUE_LENGTH, valueLength);
        buffer.putInt(p + HEIGHT, height);
        int keyAt = p + TOWER + 4 * height;
        byte[] array = buffer.array();
        System.arraycopy(userKey, 0, array, keyAt, userKey.length);
        KeyFormat.putVersion(array, keyAt + userKey.length, version);
        int valueAt = keyAt + keyLength;
        int valueBytesAt = ValueStruct.putHeader(array, valueAt, meta, userMeta, expiresAtMillis);
        System.arraycopy(value, 0, array, valueBytesAt, value.length);
        return link(node, height, userKey, version);
    }

    private boolean link(int node, int height, byte[] userKey, long version) {
        Splice shared = hint.getAndSet(null);
        Splice splice = shared != null ? shared : SPLICES.get().invalidated();
        boolean inserted = link(node, height, userKey, version, splice);
        if (shared != null) {
            hint.set(shared);
        }
        return inserted;
    }

    /**
     * Links {@code node} at {@code splice}, or after a descent from the head when the splice does
     * not bracket the key at level 0; afterwards {@code splice} brackets the position just after
     * the new node.
     */
    private boolean link(int node, int height, byte[] userKey, long version, Splice splice) {
        int currentHeight = raiseHeight(height);
        int[] prev = splice.prev;
        int[] next = splice.next;
        if (splice.height < currentHeight) {
            splice.height = 0; // the list grew since: descend from the head at every level
        }
        int searchFrom = 0;
        if (splice.height == 0 || !bracketsAtLevel0(splice, userKey, version)) {
            searchFrom = currentHeight;
            prev[currentHeight] = head;
        }
        for (int level = searchFrom - 1; level >= 0; level--) {
            if (findSplice(userKey, version, prev[level + 1], level, prev, next)) {
                splice.height = 0;
                return false;
            }
        }
        splice.height = currentHeight;
        for (int level = 0; level < height; level++) {
            while (true) {
                setLink(node, level, next[level]);
                if (casLink(prev[level], level, next[level], node)) {
                    break;
                }
                if (findSplice(userKey, version, prev[level], level, prev, next) && level == 0) {
                    splice.height = 0;
                    return false; // a concurrent writer inserted the same key and version first
                }
            }
            prev[level] = node;
        }
        return true;
    }

    /**
     * Whether {@code prev[0] < key < next[0]} in {@code splice}. A splice found by one descent
     * brackets a key at every level above one that brackets it, so the splice is then right at
     * every level as it is (links made since are caught by the CAS that links each level).
     */
    private boolean bracketsAtLevel0(Splice splice, byte[] userKey, long version) {
        int before = splice.prev[0];
        int after = splice.next[0];
        return (before == head || compareNodeTo(before, userKey, version) < 0)
                && (after == Arena.NULL || compareNodeTo(after, userKey, version) > 0);
    }

    private int raiseHeight(int height) {
        int current = listHeight.get();
        while (height > current) {
            if (listHeight.compareAndSet(current, height)) {
                return height;
            }
            current = listHeight.get();
        }
        return current;
    }

    /**
     * Finds, at {@code level} and starting from {@code start}, the nodes between which the key
     * belongs: {@code prev[level] < key <= next[level]}.
     *
     * @return true if {@code next[level]} holds exactly this key and version
     */
    private boolean findSplice(byte[] userKey, long version, int start, int level, int[] prev, int[] next) {
        int before = start;
        while (true) {
            int after = getLink(before, level);
            if (after == Arena.NULL) {
                prev[level] = before;
                next[level] = Arena.NULL;
                return false;
            }
            int c = compareNodeTo(after, userKey, version);
            if (c >= 0) {
                prev[level] = before;
                next[level] = after;
                return c == 0;
            }
            before = after;
        }
    }

    /**
     * The newest entry for {@code userKey} whose version is at most {@code readVersion}, or null.
     * Tombstones and expired entries are returned as they are; callers decide what they mean.
     */
    public ValueStruct get(byte[] userKey, long readVersion) {
        int node = seekAtLeast(userKey, readVersion);
        if (node == Arena.NULL || !userKeyEquals(node, userKey)) {
            return null;
        }
        return valueOf(node);
    }

    /**
     * The first node whose key is at or after {@code (userKey, version)}, or {@link Arena#NULL}.
     * It returns the successor it compared during the descent: re-reading the predecessor's link
     * afterwards (as a descent shared with {@link #findLessThan} would) can return a node that a
     * concurrent insert put before the target, and a lookup would then miss the key.
     */
    private int seekAtLeast(byte[] userKey, long version) {
        int x = head;
        int level = listHeight.get() - 1;
        while (true) {
            int next = getLink(x, level);
            if (next != Arena.NULL && compareNodeTo(next, userKey, version) < 0) {
                x = next;
            } else if (level == 0) {
                return next;
            } else {
                level--;
            }
        }
    }

    /** Compares the key of {@code node} with {@code (userKey, version)} in internal-key order. */
    private int compareNodeTo(int node, byte[] userKey, long version) {
        ByteBuffer buffer = arena.buffer(node);
        int p = arena.position(node);
        int keyAt = p + TOWER + 4 * buffer.getInt(p + HEIGHT);
        int userKeyLength = buffer.getInt(p + KEY_LENGTH) - KeyFormat.VERSION_SIZE;
        int c = Arrays.compareUnsigned(buffer.array(), keyAt, keyAt + userKeyLength, userKey, 0, userKey.length);
        if (c != 0) {
            return c;
        }
        return Long.compare(version, buffer.getLong(keyAt + userKeyLength));
    }

    private boolean userKeyEquals(int node, byte[] userKey) {
        ByteBuffer buffer = arena.buffer(node);
        int p = arena.position(node);
        int keyAt = p + TOWER + 4 * buffer.getInt(p + HEIGHT);
        int userKeyLength = buffer.getInt(p + KEY_LENGTH) - KeyFormat.VERSION_SIZE;
        return Arrays.equals(buffer.array(), keyAt, keyAt + userKeyLength, userKey, 0, userKey.length);
    }

    private ValueStruct valueOf(int node) {
        ByteBuffer buffer = arena.buffer(node);
        int p = arena.position(node);
        int keyLength = buffer.getInt(p + KEY_LENGTH);
        int keyAt = p + TOWER + 4 * buffer.getInt(p + HEIGHT);
        int valueAt = keyAt + keyLength;
        int valueLength = buffer.getInt(p + VALUE_LENGTH);
        return ValueStruct.decode(buffer.getLong(valueAt - KeyFormat.VERSION_SIZE), buffer, valueAt, valueLength);
    }

    /** An iterator over every entry, in internal-key order or its reverse; not yet positioned. */
    public InternalIterator iterator(boolean reverse) {
        return new MemTableIterator(reverse);
    }

    /** The last node whose key is before {@code (userKey, version)}, or {@link Arena#NULL}. */
    private int findLessThan(byte[] userKey, long version) {
        int x = head;
        int level = listHeight.get() - 1;
        while (true) {
            int next = getLink(x, level);
            if (next != Arena.NULL && compareNodeTo(next, userKey, version) < 0) {
                x = next;
            } else if (level == 0) {
                return x == head ? Arena.NULL : x;
            } else {
                level--;
            }
        }
    }

    /** The last node, or {@link Arena#NULL} when empty. */
    private int findLast() {
        int x = head;
        int level = listHeight.get() - 1;
        while (true) {
            int next = getLink(x, level);
            if (next != Arena.NULL) {
                x = next;
            } else if (level == 0) {
                return x == head ? Arena.NULL : x;
            } else {
                level--;
            }
        }
    }

    private int getLink(int node, int level) {
        return (int) LINK.getAcquire(arena.buffer(node), arena.position(node) + TOWER + 4 * level);
    }

    private void setLink(int node, int level, int target) {
        LINK.setRelease(arena.buffer(node), arena.position(node) + TOWER + 4 * level, target);
    }

    private boolean casLink(int node, int level, int expected, int target) {
        return LINK.compareAndSet(arena.buffer(node), arena.position(node) + TOWER + 4 * level, expected, target);
    }

    private static int randomHeight() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int height = 1;
        while (height < MAX_HEIGHT && random.nextInt(BRANCHING) == 0) {
            height++;
        }
        return height;
    }

    /**
     * Iteration in either direction. Forward steps follow level-0 links; backward steps search
     * from the head for the node before the current key (the list has no back links), as
     * LevelDB's memtable does. Sees entries inserted concurrently ahead of its position.
     */
    private final class MemTableIterator implements InternalIterator {
        private final boolean reverse;
        private int node = Arena.NULL;
        private byte[] key = new byte[64];
        private int keyLength;
        private ByteBuffer valueBuffer;
        private int valueAt;
        private int valueSize;

        MemTableIterator(boolean reverse) {
            this.reverse = reverse;
        }

        @Override
        public boolean valid() {
            return node != Arena.NULL;
        }

        @Override
        public void seekToFirst() {
            position(reverse ? findLast() : getLink(head, 0));
        }

        @Override
        public void seek(byte[] userKey, long version) {
            int atLeast = seekAtLeast(userKey, version);
            if (!reverse || (atLeast != Arena.NULL && compareNodeTo(atLeast, userKey, version) == 0)) {
                position(atLeast);
            } else {
                position(findLessThan(userKey, version));
            }
        }

        @Override
        public void next() {
            if (!reverse) {
                position(getLink(node, 0));
                return;
            }
            int userLength = keyLength - KeyFormat.VERSION_SIZE;
            byte[] userKey = Arrays.copyOf(key, userLength);
            position(findLessThan(userKey, KeyFormat.getVersion(key, userLength)));
        }

        @Override
        public byte[] keyBuffer() {
            return key;
        }

        @Override
        public int keyLength() {
            return keyLength;
        }

        @Override
        public ValueStruct value() {
            return valueOf(node);
        }

        /** The arena chunk holding the entry. */
        @Override
        public ByteBuffer valueBuffer() {
            return valueBuffer;
        }

        @Override
        public int valueOffset() {
            return valueAt;
        }

        @Override
        public int valueSize() {
            return valueSize;
        }

        private void position(int target) {
            node = target;
            if (target == Arena.NULL) {
                return;
            }
            ByteBuffer buffer = arena.buffer(target);
            int p = arena.position(target);
            keyLength = buffer.getInt(p + KEY_LENGTH);
            if (key.length < keyLength) {
                key = new byte[Math.max(keyLength, 2 * key.length)];
            }
            int keyAt = p + TOWER + 4 * buffer.getInt(p + HEIGHT);
            System.arraycopy(buffer.array(), keyAt, key, 0, keyLength);
            valueBuffer = buffer;
            valueAt = keyAt + keyLength;
            valueSize = buffer.getInt(p + VALUE_LENGTH);
        }
    }

    /**
     * The nodes before and after an insert position at every level below {@code height}; a
     * height of 0 means nothing is known and the search starts at the head.
     */
    private static final class Splice {
        final int[] prev = new int[MAX_HEIGHT + 1];
        final int[] next = new int[MAX_HEIGHT + 1];
        int height;

        Splice invalidated() {
            height = 0;
            return this;
        }
    }
}
