package io.trainkv;

import io.trainkv.util.Bytes;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.MergingIterator;
import io.trainkv.util.ValueStruct;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Validates a committing transaction's reads against the commits made since it began (backward
 * validation of optimistic concurrency control, Kung and Robinson, 1981): a key it read, or a key
 * in a range its iterators covered, that has a newer committed version is a conflict — unless
 * that version is a value-log GC move that left the key reading exactly as before, so that GC
 * never makes transactions conflict.
 */
final class CommitValidation {

    private final TrainKV db;

    CommitValidation(TrainKV db) {
        this.db = db;
    }

    /**
     * The first key among {@code keys}, or in one of {@code ranges} ({lower inclusive, upper
     * exclusive}, null = unbounded), that has a committed version above {@code readVersion}, or
     * null. Called by the write leader, when every earlier commit is applied.
     */
    String firstChangeSince(Set<ByteBuffer> keys, List<byte[][]> ranges, long readVersion) {
        for (ByteBuffer key : keys) {
            byte[] k = new byte[key.remaining()];
            key.duplicate().get(k);
            ValueStruct newest = db.newestEntry(k);
            if (newest != null && newest.version() > readVersion && !movedButUnchanged(k, newest, readVersion)) {
                return "key " + Bytes.escape(k);
            }
        }
        for (byte[][] range : ranges) {
            String changed = db.readAllVersions((all, visible) -> firstChangeInRange(all, range[0], range[1],
                    readVersion));
            if (changed != null) {
                return changed;
            }
        }
        return null;
    }

    /**
     * Whether the key's newest entry is a value-log GC move and the key reads exactly as it did at
     * {@code readVersion}: then the versions after it changed nothing a reader could see, and the
     * read stays valid (value-based validation).
     */
    private boolean movedButUnchanged(byte[] key, ValueStruct newest, long readVersion) {
        if (!newest.isMoved()) {
            return false;
        }
        ValueStruct then = db.entryAt(key, readVersion);
        if (then == null || then.isTombstone() || then.userMeta() != newest.userMeta()
                || then.expiresAtMillis() != newest.expiresAtMillis()
                || then.isValuePointer() && newest.isValuePointer() && then.pointer().length() != newest.pointer().length()) {
            return false;
        }
        try {
            byte[] before = db.resolve(then);
            byte[] now = db.resolve(newest);
            return before != null && now != null && Arrays.equals(before, now);
        } catch (RuntimeException e) {
            return false; // a value that cannot be read is not shown unchanged: the commit conflicts
        }
    }

    private String firstChangeInRange(MergingIterator all, byte[] lower, byte[] upper, long readVersion) {
        if (lower == null) {
            all.seekToFirst();
        } else {
            all.seek(lower, Long.MAX_VALUE);
        }
        while (all.valid()) {
            int userLength = all.keyLength() - KeyFormat.VERSION_SIZE;
            byte[] key = all.keyBuffer();
            if (upper != null && Arrays.compareUnsigned(key, 0, userLength, upper, 0, upper.length) >= 0) {
                return null;
            }
            if (KeyFormat.getVersion(key, userLength) <= readVersion) {
                all.next();
                continue;
            }
            byte[] userKey = Arrays.copyOf(key, userLength);
            ValueStruct newest = db.newestEntry(userKey);
            if (newest == null || !movedButUnchanged(userKey, newest, readVersion)) {
                return "key " + Bytes.escape(userKey) + " (in a range an iterator covered)";
            }
            skipVersionsOf(all, userKey);
        }
        return null;
    }

    /** Moves {@code all} to the first entry after every version of {@code userKey}. */
    private static void skipVersionsOf(MergingIterator all, byte[] userKey) {
        while (all.standsOn(userKey)) {
            all.next();
        }
    }
}
