package io.trainkv;

import io.trainkv.util.Bytes;
import io.trainkv.util.ValueStruct;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A transaction: reads see the database as of the transaction's read version (the last commit
 * when it began) plus its own pending writes; writes stay pending until {@link #commit()}, which
 * applies them atomically at one new version. With {@link Options#detectConflicts(boolean)} on
 * (the default) the commit fails with {@link ConflictException} if any key the transaction read,
 * or any key in a range its iterators covered, was committed by someone else after the read
 * version: serializable snapshot isolation, write skew included. Read-only transactions (and
 * {@link TrainKV#snapshot()}) refuse writes.
 *
 * <p>Not thread-safe. Always end a transaction, by {@link #commit()}, {@link #discard()} or
 * {@link #close()}: it pins the versions it can read.
 */
public final class Transaction implements AutoCloseable {

    /** Largest number of distinct keys a transaction may write. */
    public static final int MAX_KEYS = 100_000;

    private final TrainKV db;
    private final boolean update;
    private final boolean detectConflicts;
    private final long readVersion;
    private final long maxBytes;
    private final int valueThreshold;
    private final TreeMap<byte[], ValueStruct> pending = new TreeMap<>(Arrays::compareUnsigned);
    private final Set<ByteBuffer> readKeys = new HashSet<>();
    private final List<byte[][]> readRanges = new ArrayList<>();
    private final List<DbIterator> iterators = new ArrayList<>();
    private long pendingBytes;
    private boolean done;

    /**
     * @param maxBytes       memtable bytes the pending writes may take, measured as the write path
     *                       measures them ({@link WritePipeline#entryFootprint})
     * @param valueThreshold {@link Options#valueThreshold(int)}: longer values count as a pointer
     */
    Transaction(TrainKV db, boolean update, boolean detectConflicts, long readVersion, long maxBytes,
                int valueThreshold) {
        this.db = db;
        this.update = update;
        this.detectConflicts = detectConflicts;
        this.readVersion = readVersion;
        this.maxBytes = maxBytes;
        this.valueThreshold = valueThreshold;
    }

    /** The version this transaction reads at: every commit up to it, none after. */
    public long readVersion() {
        return readVersion;
    }

    public boolean isReadOnly() {
        return !update;
    }

    /** The value of {@code key} in this transaction's view, or null. */
    public byte[] get(byte[] key) {
        Entry entry = getEntry(key);
        return entry == null ? null : entry.value();
    }

    public String get(String key) {
        byte[] value = get(Bytes.utf8(nonNull(key)));
        return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }

    /** The entry of {@code key} in this transaction's view, with user meta and expiry, or null. */
    public Entry getEntry(byte[] key) {
        WriteBatch.checkKey(key);
        checkActive();
        ValueStruct own = pending.get(key);
        if (own != null) {
            return visible(key, own);
        }
        if (update && detectConflicts) {
            readKeys.add(ByteBuffer.wrap(key.clone()));
        }
        ValueStruct found = db.entryAt(key, readVersion);
        if (found == null) {
            return null;
        }
        Entry entry = visible(key, found);
        if (entry == null) {
            return null;
        }
        byte[] value = db.resolve(found);
        if (value == null) { // GC keeps a collected file until no transaction older than its rewrites remains
            throw TrainKV.collectedButReferenced(found, "the version of key " + Bytes.escape(key)
                    + " that this transaction reads");
        }
        return Entry.stored(key.clone(), value, found.userMeta(), found.expiresAtMillis());
    }

    private Entry visible(byte[] key, ValueStruct value) {
        if (value.isTombstone() || value.isExpiredAt(db.nowMillis())) {
            return null;
        }
        return Entry.stored(key.clone(), value.value(), value.userMeta(), value.expiresAtMillis());
    }

    public void set(byte[] key, byte[] value) {
        set(Entry.of(key, value));
    }

    public void set(String key, String value) {
        set(Bytes.utf8(nonNull(key)), Bytes.utf8(nonNull(value)));
    }

    /**
     * Sets an entry (with its TTL and user meta) when the transaction commits; a TTL counts from
     * this call.
     *
     * @throws IllegalArgumentException if the key or value is invalid (see {@link WriteBatch}) or
     *         the expiry, this call's time plus the TTL, does not fit in a long
     */
    public void set(Entry entry) {
        checkWritable();
        WriteBatch check = new WriteBatch().set(entry);
        Entry e = check.entry(0);
        add(e.key(), new ValueStruct(readVersion, (byte) 0, e.userMeta(), e.expiresAtMillis(db.nowMillis()), e.value()));
    }

    public void delete(byte[] key) {
        checkWritable();
        WriteBatch.checkKey(key);
        add(key, new ValueStruct(readVersion, ValueStruct.META_TOMBSTONE, (byte) 0, 0, new byte[0]));
    }

    public void delete(String key) {
        delete(Bytes.utf8(nonNull(key)));
    }

    private void add(byte[] key, ValueStruct value) {
        long size = footprint(key, value);
        ValueStruct replaced = pending.get(key);
        long after = pendingBytes + size - (replaced == null ? 0 : footprint(key, replaced));
        if (after > maxBytes || (replaced == null && pending.size() >= MAX_KEYS)) {
            throw new TxnTooBigException("transaction too big: " + (pending.size() + (replaced == null ? 1 : 0))
                    + " keys, about " + after + " bytes of memtable; the limits are " + MAX_KEYS + " keys and "
                    + maxBytes + " bytes (half the memtable size; a value of at least valueThreshold "
                    + valueThreshold + " bytes goes to the value log and counts as its pointer)");
        }
        pending.put(key.clone(), value);
        pendingBytes = after;
    }

    private long footprint(byte[] key, ValueStruct value) {
        return WritePipeline.entryFootprint(key.length, value.value().length, value.isTombstone(), valueThreshold);
    }

    /**
     * An iterator over this transaction's view: its snapshot merged with its pending writes, in
     * the direction and bounds of {@code options}. The range it covers counts as read for
     * conflict detection. Closed with the transaction at the latest.
     */
    public DbIterator iterator(IteratorOptions options) {
        checkActive();
        if (update && detectConflicts) {
            readRanges.add(new byte[][] {options.lowerBound(), options.upperBound()});
        }
        DbIterator iterator = db.iteratorAt(options, readVersion,
                new PendingWritesIterator(pending, readVersion, options.isReverse()));
        iterators.add(iterator);
        return iterator;
    }

    /**
     * Applies the pending writes atomically and ends the transaction.
     *
     * @return the commit version, or the read version if there was nothing to write
     * @throws ConflictException if conflict detection is on and something this transaction read
     *         changed since its read version; nothing is written
     */
    public long commit() {
        checkActive();
        try {
            if (pending.isEmpty()) {
                return readVersion;
            }
            WriteBatch batch = new WriteBatch();
            for (Map.Entry<byte[], ValueStruct> e : pending.entrySet()) {
                ValueStruct v = e.getValue();
                if (v.isTombstone()) {
                    batch.delete(e.getKey());
                } else {
                    batch.set(Entry.stored(e.getKey(), v.value(), v.userMeta(), v.expiresAtMillis()));
                }
            }
            Set<ByteBuffer> keys = Set.copyOf(readKeys);
            List<byte[][]> ranges = List.copyOf(readRanges);
            return db.commit(batch, written -> {
                if (detectConflicts) {
                    String conflict = new CommitValidation(db).firstChangeSince(keys, ranges, readVersion);
                    if (conflict != null) {
                        throw new ConflictException("transaction at read version " + readVersion
                                + " conflicts: " + conflict + " was committed after it began");
                    }
                }
                return written;
            });
        } finally {
            end();
        }
    }

    /** Ends the transaction without writing anything. Idempotent. */
    public void discard() {
        if (!done) {
            end();
        }
    }

    /** Same as {@link #discard()}: try-with-resources ends an uncommitted transaction. */
    @Override
    public void close() {
        discard();
    }

    private void end() {
        done = true;
        for (DbIterator iterator : iterators) {
            iterator.close();
        }
        iterators.clear();
        db.endTransaction(readVersion);
    }

    private void checkActive() {
        if (done) {
            throw new IllegalStateException("transaction already committed or discarded");
        }
    }

    private void checkWritable() {
        checkActive();
        if (!update) {
            throw new IllegalStateException("read-only transaction: writes are refused (use newTransaction(true))");
        }
    }

    private static String nonNull(String key) {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        return key;
    }
}
