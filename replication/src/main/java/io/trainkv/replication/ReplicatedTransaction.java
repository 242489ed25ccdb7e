package io.trainkv.replication;

import io.trainkv.Entry;
import io.trainkv.WriteBatch;
import io.trainkv.util.Bytes;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An optimistic transaction against a cluster, serializable like the local engine's conflict-
 * detecting transactions (no write skew). Reads go to the cluster at once (linearizably) and are
 * recorded with the smallest applied log index any of them was served at, the transaction's
 * <em>read index</em>; writes are buffered (and read back by later reads of the same transaction).
 * {@link #commit()} sends the reads and writes as one log entry, and every replica applies the
 * writes only if no key read, and no key in a range scanned, was changed by an entry after the read
 * index; otherwise the commit throws {@link io.trainkv.ConflictException} and nothing is written.
 * A commit that reads nothing and writes nothing sends nothing. Not thread-safe; use once.
 */
public final class ReplicatedTransaction {

    private final ReplicatedTrainKV kv;
    private long readIndex = Long.MAX_VALUE;
    private final Map<ByteBuffer, byte[]> readKeys = new LinkedHashMap<>();
    private final List<byte[][]> readRanges = new ArrayList<>();
    /** Buffered writes by key; a null value is a delete. */
    private final TreeMap<byte[], Wire.Op> pending = new TreeMap<>(Arrays::compareUnsigned);
    private boolean finished;

    ReplicatedTransaction(ReplicatedTrainKV kv) {
        this.kv = kv;
    }

    /** The value of {@code key}: this transaction's own write if it made one, else read from the cluster. */
    public byte[] get(byte[] key) {
        Entry entry = getEntry(key);
        return entry == null ? null : entry.value();
    }

    /** The value of a UTF-8 key as text, or null. */
    public String get(String key) {
        Entry entry = getEntry(Bytes.utf8(key));
        return entry == null ? null : entry.valueAsString();
    }

    /** The entry under {@code key}, or null; see {@link #get(byte[])}. */
    public Entry getEntry(byte[] key) {
        checkOpen();
        Wire.Op own = pending.get(ReplicatedTrainKV.checkKey(key));
        if (own != null) {
            return own.isDelete() ? null : own.entry();
        }
        Wire.ReadReply reply = kv.read(Wire.get(key), Bytes.escape(key));
        readAt(reply.appliedIndex());
        readKeys.putIfAbsent(ByteBuffer.wrap(key.clone()), key.clone());
        return reply.entries().isEmpty() ? null : reply.entries().get(0);
    }

    /**
     * Every entry in {@code [from, to)} (null = unbounded), with this transaction's own writes
     * merged in, ascending or, with {@code reverse}, descending. The whole range is recorded: a
     * later change anywhere in it, an insert too, makes the commit conflict.
     */
    public List<Entry> scan(byte[] from, byte[] to, boolean reverse) {
        checkOpen();
        TreeMap<byte[], Entry> merged = new TreeMap<>(Arrays::compareUnsigned);
        Iterator<Entry> it = kv.new PagedIterator(from, to, false, this);
        while (it.hasNext()) {
            Entry e = it.next();
            merged.put(e.key(), e);
        }
        readRanges.add(new byte[][] {from == null ? null : from.clone(), to == null ? null : to.clone()});
        Map<byte[], Wire.Op> own = from == null && to == null ? pending
                : from == null ? pending.headMap(to, false)
                : to == null ? pending.tailMap(from, true) : pending.subMap(from, true, to, false);
        for (Wire.Op op : own.values()) {
            if (op.isDelete()) {
                merged.remove(op.key());
            } else {
                merged.put(op.key(), op.entry());
            }
        }
        List<Entry> entries = new ArrayList<>(merged.values());
        if (reverse) {
            Collections.reverse(entries);
        }
        return entries;
    }

    /** Buffers a set of {@code key} to {@code value}. */
    public void set(byte[] key, byte[] value) {
        add(new WriteBatch().set(key, value));
    }

    /** Buffers a set of a UTF-8 key to a UTF-8 value. */
    public void set(String key, String value) {
        add(new WriteBatch().set(key, value));
    }

    /** Buffers a set of an entry (a TTL counts from now, on this client's clock). */
    public void set(Entry entry) {
        add(new WriteBatch().set(entry));
    }

    /** Buffers a delete of {@code key}. */
    public void delete(byte[] key) {
        add(new WriteBatch().delete(key));
    }

    /** Buffers a delete of a UTF-8 key. */
    public void delete(String key) {
        add(new WriteBatch().delete(key));
    }

    private void add(WriteBatch batch) {
        checkOpen();
        for (Wire.Op op : ReplicatedTrainKV.ops(batch, kv.now())) {
            pending.put(op.key(), op);
        }
    }

    /** The smallest applied log index a read of this transaction was served at (Long.MAX_VALUE before any read). */
    public long readIndex() {
        return readIndex;
    }

    void readAt(long appliedIndex) {
        readIndex = Math.min(readIndex, appliedIndex);
    }

    /**
     * Validates and applies the transaction on every replica.
     *
     * @return the log index it committed at, or 0 if it read and wrote nothing
     * @throws io.trainkv.ConflictException if a key it read changed after its read index; nothing is written
     * @throws ReplicationException if the cluster did not answer (the commit may or may not have happened)
     * @throws IllegalStateException if the transaction was already committed or discarded
     */
    public long commit() {
        checkOpen();
        finished = true;
        if (readKeys.isEmpty() && readRanges.isEmpty() && pending.isEmpty()) {
            return 0;
        }
        Wire.Txn txn = new Wire.Txn(readIndex == Long.MAX_VALUE ? 0 : readIndex, new ArrayList<>(readKeys.values()),
                readRanges, new ArrayList<>(pending.values()));
        return ReplicatedTrainKV.outcome(kv.send(Wire.txn(txn)), "the transaction").index();
    }

    /** Drops the buffered writes; nothing is sent. */
    public void discard() {
        finished = true;
        pending.clear();
    }

    private void checkOpen() {
        if (finished) {
            throw new IllegalStateException("the transaction is already committed or discarded");
        }
    }

    @Override
    public String toString() {
        return "ReplicatedTransaction[" + readKeys.size() + " keys read at index "
                + (readIndex == Long.MAX_VALUE ? "-" : readIndex) + ", " + pending.size() + " writes"
                + (finished ? ", finished" : "") + "]";
    }
}
