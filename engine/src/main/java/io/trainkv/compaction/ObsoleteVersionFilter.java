package io.trainkv.compaction;

import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Decides which entries of a sorted stream of versioned keys (internal-key order: user key
 * ascending, versions newest first) no reader can see any more, and counts the value-log bytes
 * their pointers referenced (discard statistics). Given the oldest version any reader may still
 * read at ({@code smallestSnapshot}), an entry is obsolete if a newer version of its key is at or
 * below that snapshot (every reader sees the newer one), or, where {@code bottommost} says no
 * deeper level holds the key, if it is a tombstone or expired at or below the snapshot (it hides
 * nothing any more). Compaction applies both rules; a flush only the first (it writes to level 0,
 * above every table), so that duplicates overwritten within one memtable never reach a table and
 * their values count as garbage at once. The second rule erases a deletion without a trace, so
 * the filter also keeps the highest version it dropped by it ({@link #droppedDeletionVersion()}),
 * which an incremental export must not start below. Not thread-safe: one per job.
 */
public final class ObsoleteVersionFilter {

    private static final long NO_VERSION = -1;

    private final long smallestSnapshot;
    private final long nowMillis;
    private final Predicate<byte[]> bottommost;
    private final Map<Long, Long> valueLogDiscard = new HashMap<>();
    private byte[] currentUserKey = new byte[0];
    private int currentUserLength = -1;
    private long newerVersionOfKey = NO_VERSION;
    private long droppedDeletionVersion;

    /**
     * @param smallestSnapshot the oldest version a reader may read at
     * @param nowMillis the time at which expiry is judged (ms since the epoch)
     * @param bottommost whether no level below the output holds a user key; null for never
     */
    public ObsoleteVersionFilter(long smallestSnapshot, long nowMillis, Predicate<byte[]> bottommost) {
        this.smallestSnapshot = smallestSnapshot;
        this.nowMillis = nowMillis;
        this.bottommost = bottommost;
    }

    /**
     * Whether the entry (the next in internal-key order) is obsolete; if so and it points into
     * the value log, its value's bytes are added to {@link #valueLogDiscard()}.
     */
    public boolean drop(byte[] key, int keyLength, ValueStruct value) {
        int userLength = keyLength - KeyFormat.VERSION_SIZE;
        long version = KeyFormat.getVersion(key, userLength);
        if (currentUserLength != userLength || !Arrays.equals(currentUserKey, 0, userLength, key, 0, userLength)) {
            currentUserKey = Arrays.copyOf(key, userLength);
            currentUserLength = userLength;
            newerVersionOfKey = NO_VERSION;
        }
        boolean drop;
        if (newerVersionOfKey != NO_VERSION && newerVersionOfKey <= smallestSnapshot) {
            drop = true;
        } else {
            drop = bottommost != null && (value.isTombstone() || value.isExpiredAt(nowMillis))
                    && version <= smallestSnapshot && bottommost.test(currentUserKey);
            if (drop) {
                droppedDeletionVersion = Math.max(droppedDeletionVersion, version);
            }
        }
        newerVersionOfKey = version;
        if (drop && value.isValuePointer()) {
            ValuePointer pointer = value.pointer();
            valueLogDiscard.merge(pointer.fileId(), (long) pointer.length(), Long::sum);
        }
        return drop;
    }

    /**
     * The highest version of a tombstone or expired entry dropped because it hides nothing any
     * more (0: none). Such a drop removes the last trace of a deletion (an expired entry is an
     * export's deletion too: the importer of an earlier export may hold an older value of the key).
     */
    public long droppedDeletionVersion() {
        return droppedDeletionVersion;
    }

    /** Value-log bytes the dropped entries pointed to, per value-log file id. */
    public Map<Long, Long> valueLogDiscard() {
        return Collections.unmodifiableMap(valueLogDiscard);
    }
}
