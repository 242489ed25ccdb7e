package io.trainkv;

import io.trainkv.util.Bytes;
import io.trainkv.util.InternalIterator;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
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
    private byte[] key;
    private ValueStruct value;

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
            findVisibleForward(null);
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
            findVisibleForward(null);
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
        return key != null;
    }

    /** Moves to the next key in the iterator's direction. */
    public synchronized void next() {
        checkValid();
        if (!reverse) {
            findVisibleForward(key);
        } else {
            findVisibleBackward();
        }
    }

    /** The current key (a copy). */
    public synchronized byte[] key() {
        checkValid();
        return key.clone();
    }

    /** The current value (a copy, read from the value log if it lives there). */
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
        return Entry.stored(key.clone(), resolved(), value.userMeta(), value.expiresAtMillis());
    }

    private byte[] resolved() {
        byte[] bytes = db.resolve(value);
        if (bytes == null) { // GC keeps a collected file until no iterator older than its rewrites remains
            throw TrainKV.collectedButReferenced(value, "the version of key " + Bytes.escape(key)
                    + " that this iterator reads");
        }
        return value.isValuePointer() ? bytes : bytes.clone();
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
        key = null;
        merged.close();
        onClose.accept(this);
    }

    /** Skips to the newest visible version of the next live key at or after the merged position. */
    private void findVisibleForward(byte[] skipUserKey) {
        byte[] skip = skipUserKey;
        key = null;
        while (merged.valid()) {
            byte[] buffer = merged.keyBuffer();
            int userLength = merged.keyLength() - KeyFormat.VERSION_SIZE;
            if (upper != null && Arrays.compareUnsigned(buffer, 0, userLength, upper, 0, upper.length) >= 0) {
                return;
            }
            if (skip != null && Arrays.equals(buffer, 0, userLength, skip, 0, skip.length)) {
                merged.next();
                continue;
            }
            if (KeyFormat.getVersion(buffer, userLength) > readVersion) {
                merged.next();
                continue;
            }
            byte[] userKey = Arrays.copyOf(buffer, userLength);
            ValueStruct candidate = merged.value();
            if (candidate.isTombstone() || candidate.isExpiredAt(nowMillis)) {
                skip = userKey;
                merged.next();
                continue;
            }
            key = userKey;
            value = candidate;
            return;
        }
    }

    /**
     * Reverse order meets a key's versions oldest first: reads them all, keeps the newest at or
     * below the read version, and stops on the first key whose kept version is live.
     */
    private void findVisibleBackward() {
        key = null;
        while (merged.valid()) {
            int userLength = merged.keyLength() - KeyFormat.VERSION_SIZE;
            byte[] userKey = Arrays.copyOf(merged.keyBuffer(), userLength);
            if (lower != null && Bytes.compare(userKey, lower) < 0) {
                return;
            }
            ValueStruct newestVisible = null;
            while (merged.valid() && merged.keyLength() - KeyFormat.VERSION_SIZE == userLength
                    && Arrays.equals(merged.keyBuffer(), 0, userLength, userKey, 0, userLength)) {
                if (KeyFormat.getVersion(merged.keyBuffer(), userLength) <= readVersion) {
                    newestVisible = merged.value();
                }
                merged.next();
            }
            if (newestVisible != null && !newestVisible.isTombstone() && !newestVisible.isExpiredAt(nowMillis)) {
                key = userKey;
                value = newestVisible;
                return;
            }
        }
    }

    private void checkOpen() {
        db.checkOpen(); // first: closing the database closes its iterators, and that is the news
        if (closed) {
            throw new IllegalStateException("iterator is closed");
        }
    }

    private void checkValid() {
        checkOpen();
        if (key == null) {
            throw new IllegalStateException("iterator is not positioned on a key");
        }
    }
}
