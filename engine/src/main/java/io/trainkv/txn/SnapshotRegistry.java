package io.trainkv.txn;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * The read versions that open iterators (and, later, transactions) still read at. Compaction
 * keeps every version one of them can see: it asks for {@link #oldest()} and drops only versions
 * shadowed by a newer version at or below it.
 *
 * <p>Taking a snapshot and computing the oldest one read the visible version under the same lock,
 * so a compaction either sees a new snapshot or computed its bound before the snapshot's version
 * was read, in which case nothing the snapshot can see is dropped.
 */
public final class SnapshotRegistry {

    private final LongSupplier visibleVersion;
    private final TreeMap<Long, Integer> counts = new TreeMap<>();

    public SnapshotRegistry(LongSupplier visibleVersion) {
        this.visibleVersion = visibleVersion;
    }

    /** Registers a reader at the current visible version and returns that version. */
    public synchronized long acquireLatest() {
        long version = visibleVersion.getAsLong();
        counts.merge(version, 1, Integer::sum);
        return version;
    }

    /**
     * Registers another reader at {@code version}, which an existing registration (a transaction's)
     * already keeps alive.
     */
    public synchronized void acquire(long version) {
        if (!counts.containsKey(version)) {
            throw new IllegalStateException("no snapshot is held at version " + version);
        }
        counts.merge(version, 1, Integer::sum);
    }

    /** Unregisters one reader at {@code version}. */
    public synchronized void release(long version) {
        Integer count = counts.get(version);
        if (count == null) {
            throw new IllegalStateException("snapshot at version " + version + " was not acquired");
        }
        if (count == 1) {
            counts.remove(version);
        } else {
            counts.put(version, count - 1);
        }
    }

    /** The oldest version a reader may read at: the oldest snapshot, or the visible version if older. */
    public synchronized long oldest() {
        long visible = visibleVersion.getAsLong();
        Map.Entry<Long, Integer> first = counts.firstEntry();
        return first == null ? visible : Math.min(first.getKey(), visible);
    }
}
