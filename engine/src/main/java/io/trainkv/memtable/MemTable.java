package io.trainkv.memtable;

import io.trainkv.util.Bytes;
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
 * <p>Node layout. A node's offset points at its key; the tower and the key length lie before it,
 * so that the key is at a fixed place whatever the tower's height (ints in native order, the
 * version big-endian as {@link KeyFormat} has it):
 * <pre>
 *   -4-4h  tower[h-1]    ... down to
 *   -8     tower[0]      offsets of the next node at each level ({@link Arena#NULL} at the end)
 *   -4     userKeyLength bytes
 *   +0     user key, then the 8-byte version
 *   +k+8   valueLength   encoded {@link ValueStruct} length (k = userKeyLength)
 *   +k+12  value bytes
 * </pre>
 * The offset is {@value #WINDOW_ALIGNMENT}-aligned plus 8, so the 16 bytes from {@code -8}
 * ({@code tower[0]}, {@code userKeyLength} and the first 8 key bytes) share an aligned window,
 * which never straddles a cache line in a chunk placed as {@link Arena} describes. A comparison first compares the key's <em>prefix</em> (its first 8
 * bytes read as a big-endian unsigned long, zero-padded past a shorter key) with the searched
 * key's prefix, computed once per search: random keys almost always differ there, so visiting a
 * node usually costs one cache line. Equal prefixes fall back to the rest of the key (a zero-padded
 * short key can tie with a longer one: the rest decides, shorter first) and then the version.
 * Entries order by {@link KeyFormat}: user key ascending, version descending.
 *
 * <p>Searches descend from the top level and, when the node after the current one at the next
 * level down is the one that ended the level above, reuse that comparison (it is after the key)
 * instead of repeating it.
 *
 * <p>Point reads first ask a {@link MemTableFilter} of the inserted user keys (1 MiB of heap
 * beside a 64 MiB memtable, outside {@link #sizeBytes()}): a key never inserted, the common case
 * for a get while a writer fills the memtable, costs one memory access instead of a descent.
 * Iterators and seeks do not use it.
 *
 * <p>Concurrency: readers never lock; inserts link nodes bottom-up with CAS on tower links through a
 * {@link VarHandle}, so concurrent inserts are safe. A node becomes visible at level 0 only after
 * its key and value bytes are written (links are written with release and read with acquire
 * semantics). Entries are never removed; a memtable is dropped whole.
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

    /**
     * Tallest tower: with branching factor 2 this suits about 2^20 (a million) entries, a 64 MiB
     * memtable of small entries; a bigger one only has more nodes at the top level, which stay
     * in the cache. Not more, because admission checks count each entry at the tallest tower
     * ({@link #maxEntryFootprint}): 80 bytes of tower here, 64 at branching 4 and 16 levels.
     */
    static final int MAX_HEIGHT = 20;
    /**
     * One node in {@value} rises a level. Two rather than LevelDB's and RocksDB's four, because a
     * search here does not compare again the node that ended the level above (see the class
     * comment): at 300,000 random keys a descent then visits about 26 nodes at branching 2 against
     * 31 at 4, 7.5 against 11.3 of them in the levels of more than 10,000 nodes, which are the
     * ones that miss the cache (a simulation of the descent); inserts measured 13% faster.
     */
    private static final int BRANCHING = 2;

    /** Alignment (bytes) of the window holding {@code tower[0]}, the key length and the prefix. */
    static final int WINDOW_ALIGNMENT = 16;
    /** Bytes of the user key compared as one unsigned long before the rest. */
    static final int PREFIX_SIZE = 8;

    /** Offsets relative to a node's offset (the start of its key). */
    private static final int USER_KEY_LENGTH = -4;
    private static final int TOWER = -8;
    /** Bytes of a node before its key: the tower and the key length. */
    private static final int BEFORE_KEY_PER_LEVEL = 4;
    private static final int BEFORE_KEY_FIXED = 4;
    /** Bytes of the value length after the version. */
    private static final int VALUE_LENGTH_SIZE = 4;

    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.nativeOrder());

    /** Per-thread scratch arrays for inserts, so that a put allocates nothing but arena bytes. */
    private static final ThreadLocal<Splice> SPLICES = ThreadLocal.withInitial(Splice::new);

    /** Default arena chunk: 1 MiB. */
    public static final int DEFAULT_CHUNK_BITS = 20;

    /** Capacity the key filter is sized for when none is given: 64 MiB, the default memtable size. */
    public static final long DEFAULT_CAPACITY_BYTES = 64L << 20;

    private final Arena arena;
    private final int head;
    /** The last insert's splice, null while an insert holds it; see the class comment. */
    private final AtomicReference<Splice> hint = new AtomicReference<>(new Splice());
    private final AtomicInteger listHeight = new AtomicInteger(1);
    private final long walNumber;
    /** The user keys inserted, so that a get of a key not here skips the descent; see {@link #get}. */
    private final MemTableFilter filter;

    /**
     * An empty memtable backed by write-ahead log file {@code walNumber}, its key filter sized for
     * {@link #DEFAULT_CAPACITY_BYTES}.
     */
    public MemTable(long walNumber) {
        this(walNumber, DEFAULT_CHUNK_BITS);
    }

    /** An empty memtable whose arena grows in chunks of {@code 2^chunkBits} bytes. */
    public MemTable(long walNumber, int chunkBits) {
        this(walNumber, chunkBits, DEFAULT_CAPACITY_BYTES);
    }

    /**
     * An empty memtable whose arena grows in chunks of {@code 2^chunkBits} bytes and whose key
     * filter is sized for {@code capacityBytes} of arena (the memtable size limit; a memtable that
     * grows past it stays correct, its filter only answers "maybe" more often).
     */
    public MemTable(long walNumber, int chunkBits, long capacityBytes) {
        this.walNumber = walNumber;
        this.filter = new MemTableFilter(capacityBytes);
        this.arena = new Arena(chunkBits, capacityBytes > 1L << chunkBits);
        this.head = allocateNode(MAX_HEIGHT, 0, 0); // a fresh arena is zeros: empty key, null links
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

    /**
     * Bytes an entry of these sizes (user key and value bytes) takes in the arena at the tallest
     * tower, with the most alignment padding, for admission checks.
     */
    public static long maxEntryFootprint(int userKeyLength, int valueLength) {
        return BEFORE_KEY_FIXED + (long) BEFORE_KEY_PER_LEVEL * MAX_HEIGHT + userKeyLength + KeyFormat.VERSION_SIZE
                + VALUE_LENGTH_SIZE + ValueStruct.MAX_HEADER_SIZE + valueLength + WINDOW_ALIGNMENT;
    }

    /**
     * Allocates a node of tower {@code height} for a key and an encoded value of these lengths
     * (bytes), placed so that its window is aligned (see the class comment); returns its offset.
     */
    private int allocateNode(int height, int userKeyLength, int valueLength) {
        int beforeKey = BEFORE_KEY_FIXED + BEFORE_KEY_PER_LEVEL * height;
        int size = beforeKey + userKeyLength + KeyFormat.VERSION_SIZE + VALUE_LENGTH_SIZE + valueLength;
        int start = arena.allocate(size, WINDOW_ALIGNMENT, beforeKey + TOWER);
        return start + beforeKey;
    }

    /**
     * Inserts {@code (userKey, version) -> (meta, userMeta, expiresAt, value)}.
     *
     * @return false, without inserting, if that exact key and version is already present
     */
    public boolean put(byte[] userKey, long version, byte meta, byte userMeta, long expiresAtMillis, byte[] value) {
        int height = randomHeight();
        int userKeyLength = userKey.length;
        int valueLength = ValueStruct.headerSize(meta, userMeta, expiresAtMillis) + value.length;
        int node = allocateNode(height, userKeyLength, valueLength);
        byte[] array = arena.array(node);
        int p = arena.position(node);
        INT.set(array, p + USER_KEY_LENGTH, userKeyLength);
        System.arraycopy(userKey, 0, array, p, userKeyLength);
        int versionAt = p + userKeyLength;
        Bytes.putLongBigEndian(array, versionAt, version);
        INT.set(array, versionAt + KeyFormat.VERSION_SIZE, valueLength);
        int valueBytesAt = ValueStruct.putHeader(array, versionAt + KeyFormat.VERSION_SIZE + VALUE_LENGTH_SIZE,
                meta, userMeta, expiresAtMillis);
        System.arraycopy(value, 0, array, valueBytesAt, value.length);
        filter.add(userKey); // before the node is reachable: the filter never hides a linked key
        return link(node, height, userKey, Bytes.keyPrefix(userKey, 0, userKey.length), version);
    }

    private boolean link(int node, int height, byte[] userKey, long prefix, long version) {
        Splice shared = hint.getAndSet(null);
        Splice splice = shared != null ? shared : SPLICES.get().invalidated();
        boolean inserted = link(node, height, userKey, prefix, version, splice);
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
    private boolean link(int node, int height, byte[] userKey, long prefix, long version, Splice splice) {
        int currentHeight = raiseHeight(height);
        int[] prev = splice.prev;
        int[] next = splice.next;
        if (splice.height < currentHeight) {
            splice.height = 0; // the list grew since: descend from the head at every level
        }
        int searchFrom = 0;
        if (splice.height == 0 || !bracketsAtLevel0(splice, userKey, prefix, version)) {
            searchFrom = currentHeight;
            prev[currentHeight] = head;
            next[currentHeight] = Arena.NULL;
        }
        for (int level = searchFrom - 1; level >= 0; level--) {
            if (findSplice(userKey, prefix, version, prev[level + 1], level, prev, next, next[level + 1])) {
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
                if (findSplice(userKey, prefix, version, prev[level], level, prev, next, Arena.NULL) && level == 0) {
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
    private boolean bracketsAtLevel0(Splice splice, byte[] userKey, long prefix, long version) {
        int before = splice.prev[0];
        int after = splice.next[0];
        return (before == head || compareNodeTo(before, userKey, prefix, version) < 0)
                && (after == Arena.NULL || compareNodeTo(after, userKey, prefix, version) > 0);
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
     * belongs: {@code prev[level] < key <= next[level]}. {@code knownAfter} is a node known to be
     * after the key (the one that ended the search a level up), or {@link Arena#NULL}: reaching
     * it ends the search without comparing it again.
     *
     * @return true if {@code next[level]} holds exactly this key and version
     */
    private boolean findSplice(byte[] userKey, long prefix, long version, int start, int level, int[] prev, int[] next,
            int knownAfter) {
        int before = start;
        while (true) {
            int after = getLink(before, level);
            if (after == Arena.NULL || after == knownAfter) {
                prev[level] = before;
                next[level] = after;
                return false;
            }
            int c = compareNodeTo(after, userKey, prefix, version);
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
     * A key the {@link MemTableFilter} has never seen returns null without a descent.
     */
    public ValueStruct get(byte[] userKey, long readVersion) {
        if (!filter.mightContain(userKey)) {
            return null;
        }
        int node = seekAtLeast(userKey, Bytes.keyPrefix(userKey, 0, userKey.length), readVersion);
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
    private int seekAtLeast(byte[] userKey, long prefix, long version) {
        int x = head;
        int level = listHeight.get() - 1;
        int atLeast = Arena.NULL; // the node that ended the level above: at or after the key
        while (true) {
            int next = getLink(x, level);
            if (next != Arena.NULL && next != atLeast && compareNodeTo(next, userKey, prefix, version) < 0) {
                x = next;
            } else if (level == 0) {
                return next;
            } else {
                atLeast = next;
                level--;
            }
        }
    }

    /**
     * Compares the key of {@code node} with {@code (userKey, version)} in internal-key order;
     * {@code prefix} is {@link Bytes#keyPrefix Bytes.keyPrefix(userKey, 0, userKey.length)}.
     */
    private int compareNodeTo(int node, byte[] userKey, long prefix, long version) {
        byte[] array = arena.array(node);
        int p = arena.position(node);
        int userKeyLength = (int) INT.get(array, p + USER_KEY_LENGTH);
        long nodePrefix = Bytes.getLongBigEndian(array, p); // past a short key: its version, masked off
        if (userKeyLength < PREFIX_SIZE) {
            nodePrefix &= ~(-1L >>> (8 * userKeyLength));
        }
        if (nodePrefix != prefix) {
            return Long.compareUnsigned(nodePrefix, prefix);
        }
        int from = Math.min(PREFIX_SIZE, Math.min(userKeyLength, userKey.length)); // bytes the prefixes compared
        int c = Arrays.compareUnsigned(array, p + from, p + userKeyLength, userKey, from, userKey.length);
        if (c != 0) {
            return c;
        }
        return Long.compare(version, Bytes.getLongBigEndian(array, p + userKeyLength));
    }

    private boolean userKeyEquals(int node, byte[] userKey) {
        byte[] array = arena.array(node);
        int p = arena.position(node);
        int userKeyLength = (int) INT.get(array, p + USER_KEY_LENGTH);
        return Arrays.equals(array, p, p + userKeyLength, userKey, 0, userKey.length);
    }

    private ValueStruct valueOf(int node) {
        byte[] array = arena.array(node);
        int p = arena.position(node);
        int versionAt = p + (int) INT.get(array, p + USER_KEY_LENGTH);
        int valueLengthAt = versionAt + KeyFormat.VERSION_SIZE;
        return ValueStruct.decode(Bytes.getLongBigEndian(array, versionAt), arena.buffer(node),
                valueLengthAt + VALUE_LENGTH_SIZE, (int) INT.get(array, valueLengthAt));
    }

    /** An iterator over every entry, in internal-key order or its reverse; not yet positioned. */
    public InternalIterator iterator(boolean reverse) {
        return new MemTableIterator(reverse);
    }

    /** The last node whose key is before {@code (userKey, version)}, or {@link Arena#NULL}. */
    private int findLessThan(byte[] userKey, long version) {
        long prefix = Bytes.keyPrefix(userKey, 0, userKey.length);
        int x = head;
        int level = listHeight.get() - 1;
        int atLeast = Arena.NULL; // the node that ended the level above: at or after the key
        while (true) {
            int next = getLink(x, level);
            if (next != Arena.NULL && next != atLeast && compareNodeTo(next, userKey, prefix, version) < 0) {
                x = next;
            } else if (level == 0) {
                return x == head ? Arena.NULL : x;
            } else {
                atLeast = next;
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
        return (int) INT.getAcquire(arena.array(node), arena.position(node) + TOWER - 4 * level);
    }

    private void setLink(int node, int level, int target) {
        INT.setRelease(arena.array(node), arena.position(node) + TOWER - 4 * level, target);
    }

    private boolean casLink(int node, int level, int expected, int target) {
        return INT.compareAndSet(arena.array(node), arena.position(node) + TOWER - 4 * level, expected, target);
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
            long prefix = Bytes.keyPrefix(userKey, 0, userKey.length);
            int atLeast = seekAtLeast(userKey, prefix, version);
            if (!reverse || (atLeast != Arena.NULL && compareNodeTo(atLeast, userKey, prefix, version) == 0)) {
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
            byte[] array = arena.array(target);
            int p = arena.position(target);
            keyLength = (int) INT.get(array, p + USER_KEY_LENGTH) + KeyFormat.VERSION_SIZE;
            if (key.length < keyLength) {
                key = new byte[Math.max(keyLength, 2 * key.length)];
            }
            System.arraycopy(array, p, key, 0, keyLength);
            valueBuffer = arena.buffer(target);
            valueSize = (int) INT.get(array, p + keyLength);
            valueAt = p + keyLength + VALUE_LENGTH_SIZE;
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
