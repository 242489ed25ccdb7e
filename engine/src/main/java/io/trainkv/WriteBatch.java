package io.trainkv;

import io.trainkv.memtable.MemTable;
import io.trainkv.util.Bytes;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Writes applied atomically by {@link TrainKV#write(WriteBatch)}: after a crash either all of them
 * are visible or none, and no reader sees some without the others. All entries of a batch get the
 * same version. When a batch touches a key twice, the later operation replaces the earlier one.
 *
 * <p>Every key and value is checked when it is added (and every TTL and expiry when its
 * {@link Entry} is made), so a bad one fails here with {@link IllegalArgumentException}, before
 * anything is written. Not thread-safe.
 */
public final class WriteBatch {

    /** Up to this many keys, a batch finds a repeated key by scanning instead of through a map. */
    private static final int LINEAR_SCAN_LIMIT = 8;

    private static final Entry[] NO_ENTRIES = {};
    private static final boolean[] NO_TOMBSTONES = {};
    /** A delete's value. */
    private static final byte[] NO_VALUE = {};

    /**
     * The operations, in the order their keys were first added: {@code size} entries, each a set
     * or (flagged in {@code tombstones}) a delete. The first one is held in the {@code first…}
     * fields until a second key comes, and only then go they into plain arrays of entries that
     * grow from two elements: a single set, the most common batch, costs no array, and one made by
     * {@link #set(byte[], byte[])} no {@link Entry} either ({@code firstEntry} is then null).
     */
    private byte[] firstKey;
    private byte[] firstValue;
    private byte firstUserMeta;
    private long firstTtlMillis;
    private long firstExpiresAtMillis;
    private boolean firstTombstone;
    /** The entry the first operation was added as, or null if it was added as a key and value. */
    private Entry firstEntry;
    private Entry[] entries = NO_ENTRIES;
    private boolean[] tombstones = NO_TOMBSTONES;
    private int size;
    /**
     * Positions by key, built once the batch outgrows a linear scan: a single set or delete, the
     * most common batch, allocates no map.
     */
    private Map<ByteBuffer, Integer> indexByKey;
    private long footprint;
    private boolean valueLogMoves;

    /** Adds a set of {@code key} to {@code value}. */
    public WriteBatch set(byte[] key, byte[] value) {
        return add(checkKey(key), checkValue(value), (byte) 0, 0, 0, false, null);
    }

    /** Adds a set of UTF-8 encoded strings. */
    public WriteBatch set(String key, String value) {
        return set(Bytes.utf8(checkNotNull(key, "key")), Bytes.utf8(checkNotNull(value, "value")));
    }

    /** Adds a set with the entry's TTL and user meta. */
    public WriteBatch set(Entry entry) {
        checkSet(entry);
        return add(entry.key(), entry.value(), entry.userMeta(), entry.ttlMillis(), entry.fixedExpiresAtMillis(), false,
                entry);
    }

    /**
     * Checks a set's entry as {@link #set(Entry)} does: returns it if it can be written.
     *
     * @throws IllegalArgumentException if it is null, or its key or value is null, empty (a key)
     *         or too long
     */
    static Entry checkSet(Entry entry) {
        checkNotNull(entry, "entry");
        checkKey(entry.key());
        checkValue(entry.value());
        return entry;
    }

    /** Adds a delete of {@code key}. */
    public WriteBatch delete(byte[] key) {
        return add(checkKey(key), NO_VALUE, (byte) 0, 0, 0, true, null);
    }

    /** Adds a delete of a UTF-8 encoded key. */
    public WriteBatch delete(String key) {
        return delete(Bytes.utf8(checkNotNull(key, "key")));
    }

    /** Receives a batch's operations from {@link WriteBatch#forEach}. */
    public interface Visitor {
        /** A set of {@code entry} (with its TTL or expiry and user meta). */
        void set(Entry entry);

        /** A delete of {@code key}. */
        void delete(byte[] key);
    }

    /**
     * Calls {@code visitor} once per distinct key, in the order the keys were first added, with the
     * last operation on that key: what the batch would write. Lets a batch be carried elsewhere
     * (replicated, logged) and written there as the same batch.
     */
    public void forEach(Visitor visitor) {
        for (int i = 0; i < size; i++) {
            if (isTombstone(i)) {
                visitor.delete(key(i));
            } else {
                visitor.set(entry(i));
            }
        }
    }

    /** The number of distinct keys in the batch. */
    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /** Removes every operation so the batch can be reused. */
    public void clear() {
        Arrays.fill(entries, 0, Math.min(size, entries.length), null);
        dropFirst();
        size = 0;
        indexByKey = null;
        valueLogMoves = false;
        footprint = 0;
    }

    /**
     * The {@code i}th operation's entry (a delete's has an empty value); {@code i} below
     * {@link #size()}. Made here for a first operation added as a key and value: the write path
     * reads the operation's parts instead ({@link #key}, {@link #value}, {@link #userMeta},
     * {@link #hasTtl}, {@link #expiresAtMillis}).
     */
    Entry entry(int i) {
        return entries.length == 0 ? firstAsEntry() : entries[i];
    }

    /** The {@code i}th operation's key; {@code i} below {@link #size()}. */
    byte[] key(int i) {
        return entries.length == 0 ? firstKey : entries[i].key();
    }

    /** The {@code i}th operation's value, empty for a delete; {@code i} below {@link #size()}. */
    byte[] value(int i) {
        return entries.length == 0 ? firstValue : entries[i].value();
    }

    /** The {@code i}th operation's user meta byte; {@code i} below {@link #size()}. */
    byte userMeta(int i) {
        return entries.length == 0 ? firstUserMeta : entries[i].userMeta();
    }

    /** Whether the {@code i}th operation's expiry depends on the time of the write (it has a TTL). */
    boolean hasTtl(int i) {
        return entries.length == 0 ? firstTtlMillis != 0 : entries[i].hasTtl();
    }

    /**
     * The {@code i}th operation's expiry when written at {@code nowMillis}, as
     * {@link Entry#expiresAtMillis(long)} computes it.
     *
     * @throws IllegalArgumentException as {@link Entry#expiresAtMillis(long)} does
     */
    long expiresAtMillis(int i, long nowMillis) {
        return entries.length == 0 ? Entry.expiresAtMillis(firstTtlMillis, firstExpiresAtMillis, nowMillis)
                : entries[i].expiresAtMillis(nowMillis);
    }

    private Entry firstAsEntry() {
        if (firstEntry == null) {
            firstEntry = Entry.withFields(firstKey, firstValue, firstUserMeta, firstTtlMillis, firstExpiresAtMillis);
        }
        return firstEntry;
    }

    /** Whether the {@code i}th operation is a delete; {@code i} below {@link #size()}. */
    boolean isTombstone(int i) {
        return entries.length == 0 ? firstTombstone : tombstones[i];
    }

    /** Marks every entry of this batch as a value-log GC move (see {@link ValueStruct#META_MOVED}). */
    WriteBatch asValueLogMoves() {
        valueLogMoves = true;
        return this;
    }

    boolean isValueLogMoves() {
        return valueLogMoves;
    }

    /** An upper bound of the memtable bytes this batch takes. */
    long memtableFootprint() {
        return footprint;
    }

    /**
     * Adds an operation from its parts; {@code entry} is the entry they came from, or null (one
     * is made if the operation goes into the arrays).
     */
    private WriteBatch add(byte[] key, byte[] value, byte userMeta, long ttlMillis, long expiresAtMillis,
            boolean tombstone, Entry entry) {
        int existing = indexOf(key);
        if (existing >= 0) {
            footprint -= MemTable.maxEntryFootprint(key(existing).length, value(existing).length);
        }
        footprint += MemTable.maxEntryFootprint(key.length, value.length);
        if (entries.length == 0 && (size == 0 || existing >= 0)) { // the only key: held as parts
            setFirst(key, value, userMeta, ttlMillis, expiresAtMillis, tombstone, entry);
            size = 1;
            return this;
        }
        Entry stored = entry != null ? entry : Entry.withFields(key, value, userMeta, ttlMillis, expiresAtMillis);
        if (existing >= 0) {
            entries[existing] = stored;
            tombstones[existing] = tombstone;
            return this;
        }
        if (entries.length == 0) { // the second key: the first one moves into the arrays
            Entry moved = firstAsEntry();
            entries = new Entry[2];
            tombstones = new boolean[2];
            entries[0] = moved;
            tombstones[0] = firstTombstone;
            dropFirst();
        } else if (size == entries.length) {
            int capacity = 2 * size;
            entries = Arrays.copyOf(entries, capacity);
            tombstones = Arrays.copyOf(tombstones, capacity);
        }
        entries[size] = stored;
        tombstones[size] = tombstone;
        size++;
        if (indexByKey != null) {
            indexByKey.put(ByteBuffer.wrap(key), size - 1);
        } else if (size > LINEAR_SCAN_LIMIT) {
            indexByKey = new HashMap<>();
            for (int i = 0; i < size; i++) {
                indexByKey.put(ByteBuffer.wrap(entries[i].key()), i);
            }
        }
        return this;
    }

    /** Drops the first operation's parts once it is in the arrays or the batch is cleared. */
    private void dropFirst() {
        firstKey = null;
        firstValue = null;
        firstEntry = null;
    }

    private void setFirst(byte[] key, byte[] value, byte userMeta, long ttlMillis, long expiresAtMillis,
            boolean tombstone, Entry entry) {
        firstKey = key;
        firstValue = value;
        firstUserMeta = userMeta;
        firstTtlMillis = ttlMillis;
        firstExpiresAtMillis = expiresAtMillis;
        firstTombstone = tombstone;
        firstEntry = entry;
    }

    /** The position of {@code key} in the batch, or -1. */
    private int indexOf(byte[] key) {
        if (indexByKey != null) {
            Integer found = indexByKey.get(ByteBuffer.wrap(key));
            return found == null ? -1 : found;
        }
        for (int i = 0; i < size; i++) {
            if (Arrays.equals(key(i), key)) {
                return i;
            }
        }
        return -1;
    }

    private static <T> T checkNotNull(T value, String what) {
        if (value == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        return value;
    }

    static byte[] checkKey(byte[] key) {
        checkNotNull(key, "key");
        if (key.length == 0) {
            throw new IllegalArgumentException("key must not be empty");
        }
        if (key.length > Options.MAX_KEY_SIZE) {
            throw new IllegalArgumentException("key is " + key.length + " bytes; the limit is "
                    + Options.MAX_KEY_SIZE + " bytes (64 KiB)");
        }
        return key;
    }

    static byte[] checkValue(byte[] value) {
        checkNotNull(value, "value");
        if (value.length > Options.MAX_VALUE_SIZE) {
            throw new IllegalArgumentException("value is " + value.length + " bytes; the limit is "
                    + Options.MAX_VALUE_SIZE + " bytes (16 MiB)");
        }
        return value;
    }

    @Override
    public String toString() {
        return "WriteBatch[" + size + " keys]";
    }
}
