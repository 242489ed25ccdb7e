package io.trainkv;

import io.trainkv.util.Bytes;
import io.trainkv.util.InternalIterator;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Walks the keys of a consistent snapshot of the database, in ascending or descending order,
 * within the bounds of its {@link IteratorOptions}. Each key appears once, with its newest value
 * at the snapshot; deleted and expired keys are skipped. The snapshot stays readable while
 * flushes and compactions run (the iterator pins the tables it reads), until {@link #close()}.
 * <pre>{@code
 * try (DbIterator it = db.iterator(IteratorOptions.forward().prefix("user:"))) {
 *     for (it.seekToFirst(); it.valid(); it.next()) {
 *         System.out.println(it.keyAsString() + " = " + it.valueAsString());
 *     }
 * }
 * }</pre>
 * Meant for one thread at a time; its methods are synchronized so that closing the database from
 * another thread waits for a call in progress instead of unmapping tables under it. Using it
 * after it or its database is closed throws {@link IllegalStateException}.
 */
public final class DbIterator implements AutoCloseable {

    private final InternalIterator merged;
    private final long readVersion;
    private final boolean reverse;
    private final byte[] lower;
    private final byte[] upper;
    private final long nowMillis;
    private final Consumer<DbIterator> onClose;
    private final TrainKV db;
    private boolean closed;
    /** Whether the iterator stands on a key: {@code key[0, keyLength)}, reused from key to key. */
    private boolean positioned;
    private byte[] key = new byte[32];
    private int keyLength;
    /**
     * Reverse only: the encoded value (header and value bytes, {@code stagedSize} bytes) and the
     * version of the current key's newest visible version, copied because the walk has moved past
     * it. Forward, the merged iterator still stands on the current entry and its value is read there.
     */
    private byte[] staged = new byte[128];
    private ByteBuffer stagedView = ByteBuffer.wrap(staged);
    private int stagedSize;
    private long stagedVersion;

    DbIterator(TrainKV db, InternalIterator merged, long readVersion, IteratorOptions options, long nowMillis,
               Consumer<DbIterator> onClose) {
        this.db = db;
        this.merged = merged;
        this.readVersion = readVersion;
        this.reverse = options.isReverse();
        this.lower = options.lowerBound();
        this.upper = options.upperBound();
        this.nowMillis = nowMillis;
        this.onClose = onClose;
    }

    /** Positions at the first key in the iterator's direction (the smallest, or the largest when reverse). */
    public synchronized void seekToFirst() {
        checkOpen();
        if (!reverse) {
            if (lower != null) {
                merged.seek(lower, Long.MAX_VALUE);
            } else {
                merged.seekToFirst();
            }
            findVisibleForward(false);
        } else {
            if (upper != null) {
                merged.seek(upper, Long.MAX_VALUE);
            } else {
                merged.seekToFirst();
            }
            findVisibleBackward();
        }
    }

    /**
     * Forward: positions at the first key at or after {@code target}; reverse: at the last key at
     * or before it. Bounds still apply.
     */
    public synchronized void seek(byte[] target) {
        checkOpen();
        if (target == null) {
            throw new IllegalArgumentException("seek key must not be null");
        }
        if (!reverse) {
            byte[] start = lower != null && Bytes.compare(lower, target) > 0 ? lower : target;
            merged.seek(start, Long.MAX_VALUE);
            findVisibleForward(false);
        } else if (upper != null && Bytes.compare(target, upper) >= 0) {
            merged.seek(upper, Long.MAX_VALUE);
            findVisibleBackward();
        } else {
            merged.seek(target, 0);
            findVisibleBackward();
        }
    }

    public void seek(String target) {
        seek(Bytes.utf8(target));
    }

    public synchronized boolean valid() {
        checkOpen();
        return positioned;
    }

    /** Moves to the next key in the iterator's direction. */
    public synchronized void next() {
        checkValid();
        if (!reverse) {
            findVisibleForward(true);
        } else {
            findVisibleBackward();
        }
    }

    /** The current key, in a new array that belongs to the caller. */
    public synchronized byte[] key() {
        checkValid();
        return Arrays.copyOf(key, keyLength);
    }

    /**
     * The current value (read from the value log if it lives there), in a new array that belongs
     * to the caller.
     */
    public synchronized byte[] value() {
        checkValid();
        return resolved();
    }

    public String keyAsString() {
        return new String(key(), StandardCharsets.UTF_8);
    }

    public String valueAsString() {
        return new String(value(), StandardCharsets.UTF_8);
    }

    /** The current entry with its user meta and expiry. */
    public synchronized Entry entry() {
        checkValid();
        ByteBuffer buffer = valueBuffer();
        int at = valueOffset();
        return Entry.stored(Arrays.copyOf(key, keyLength), resolved(), ValueStruct.userMeta(buffer, at),
                ValueStruct.expiresAtMillis(buffer, at));
    }

    /** The current value's bytes, copied once from the block, memtable or value log. */
    private byte[] resolved() {
        ByteBuffer buffer = valueBuffer();
        int at = valueOffset();
        int size = valueSize();
        byte flags = buffer.get(at);
        if ((flags & ValueStruct.META_VALUE_POINTER) == 0) {
            int header = ValueStruct.headerSize(flags);
            byte[] bytes = new byte[size - header];
            buffer.get(at + header, bytes);
            return bytes;
        }
        ValueStruct entry = ValueStruct.decode(currentVersion(), buffer, at, size);
        byte[] bytes = db.resolve(entry);
        if (bytes == null) { // GC keeps a collected file until no iterator older than its rewrites remains
            throw TrainKV.collectedButReferenced(entry, "the version of key "
                    + Bytes.escape(Arrays.copyOf(key, keyLength)) + " that this iterator reads");
        }
        return bytes;
    }

    /** The buffer holding the current entry's encoded value: the staged copy when reverse. */
    private ByteBuffer valueBuffer() {
        return reverse ? stagedView : merged.valueBuffer();
    }

    private int valueOffset() {
        return reverse ? 0 : merged.valueOffset();
    }

    private int valueSize() {
        return reverse ? stagedSize : merged.valueSize();
    }

    private long currentVersion() {
        return reverse ? stagedVersion : KeyFormat.getVersion(merged.keyBuffer(), keyLength);
    }

    /** The version the iterator reads at: it sees every write up to it and none after. */
    public long readVersion() {
        return readVersion;
    }

    /** Releases the snapshot and the tables it pins. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        positioned = false;
        merged.close();
        onClose.accept(this);
    }

    /**
     * Skips to the newest visible version of the next live key at or after the merged position;
     * with {@code skipCurrentKey}, past every version of the current key first.
     */
    private void findVisibleForward(boolean skipCurrentKey) {
        boolean skipping = skipCurrentKey; // while set, versions of key[0, keyLength) are passed over
        positioned = false;
        while (merged.valid()) {
            byte[] buffer = merged.keyBuffer();
            int userLength = merged.keyLength() - KeyFormat.VERSION_SIZE;
            if (upper != null && Arrays.compareUnsigned(buffer, 0, userLength, upper, 0, upper.length) >= 0) {
                return;
            }
            if (skipping && Arrays.equals(buffer, 0, userLength, key, 0, keyLength)) {
                merged.next();
                continue;
            }
            if (KeyFormat.getVersion(buffer, userLength) > readVersion) {
                merged.next();
                continue;
            }
            setKey(buffer, userLength);
            merged.valueSize(); // checks that the stored value holds its header
            ByteBuffer value = merged.valueBuffer();
            int at = merged.valueOffset();
            if (ValueStruct.isTombstone(value.get(at))
                    || ValueStruct.isExpired(ValueStruct.expiresAtMillis(value, at), nowMillis)) {
                skipping = true;
                merged.next();
                continue;
            }
            positioned = true;
            return;
        }
    }

    /**
     * Reverse order meets a key's versions oldest first: reads them all, stages the newest at or
     * below the read version, and stops on the first key whose staged version is live.
     */
    private void findVisibleBackward() {
        positioned = false;
        while (merged.valid()) {
            int userLength = merged.keyLength() - KeyFormat.VERSION_SIZE;
            setKey(merged.keyBuffer(), userLength);
            if (lower != null && Arrays.compareUnsigned(key, 0, keyLength, lower, 0, lower.length) < 0) {
                return;
            }
            boolean visible = false;
            while (merged.valid() && merged.keyLength() - KeyFormat.VERSION_SIZE == userLength
                    && Arrays.equals(merged.keyBuffer(), 0, userLength, key, 0, userLength)) {
                long version = KeyFormat.getVersion(merged.keyBuffer(), userLength);
                if (version <= readVersion) {
                    stage(version);
                    visible = true;
                }
                merged.next();
            }
            if (visible && !ValueStruct.isTombstone(staged[0])
                    && !ValueStruct.isExpired(ValueStruct.expiresAtMillis(stagedView, 0), nowMillis)) {
                positioned = true;
                return;
            }
        }
    }

    /** Copies the merged entry's user key (its first {@code userLength} key bytes) into {@link #key}. */
    private void setKey(byte[] internalKey, int userLength) {
        if (key.length < userLength) {
            key = new byte[Math.max(userLength, 2 * key.length)];
        }
        System.arraycopy(internalKey, 0, key, 0, userLength);
        keyLength = userLength;
    }

    /** Copies the merged entry's encoded value into {@link #staged}, as the current key's value at {@code version}. */
    private void stage(long version) {
        int size = merged.valueSize();
        if (staged.length < size) {
            staged = new byte[Math.max(size, 2 * staged.length)];
            stagedView = ByteBuffer.wrap(staged);
        }
        merged.valueBuffer().get(merged.valueOffset(), staged, 0, size);
        stagedSize = size;
        stagedVersion = version;
    }

    private void checkOpen() {
        db.checkOpen(); // first: closing the database closes its iterators, and that is the news
        if (closed) {
            throw new IllegalStateException("iterator is closed");
        }
    }

    private void checkValid() {
        checkOpen();
        if (!positioned) {
            throw new IllegalStateException("iterator is not positioned on a key");
        }
    }
}
