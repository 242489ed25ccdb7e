package io.trainkv.manifest;

import io.trainkv.util.Bytes;
import io.trainkv.util.ValueStruct;
import io.trainkv.util.RefCounts;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An immutable snapshot of which tables make up each level. Level 0 holds flushed tables whose
 * key ranges may overlap, oldest first; every other level holds non-overlapping tables sorted by
 * key, and all versions of one user key sit in one table per level. A version is reference
 * counted: the version set holds one reference while it is current, and each read or iterator
 * holds one while it uses the tables, so compaction never deletes a file a reader still needs.
 */
public final class Version {

    private final List<List<TableHandle>> levels;
    private final List<List<TableHandle>> level0Sublevels;
    private final AtomicInteger refs = new AtomicInteger(1);

    Version(List<List<TableHandle>> levels) {
        List<List<TableHandle>> copy = new ArrayList<>(levels.size());
        for (List<TableHandle> level : levels) {
            copy.add(List.copyOf(level));
        }
        this.levels = Collections.unmodifiableList(copy);
        this.level0Sublevels = sublevels(this.levels.get(0));
        for (List<TableHandle> level : this.levels) {
            for (TableHandle table : level) {
                table.ref();
            }
        }
    }

    /** Takes a reference unless the version has already been released; returns whether it did. */
    public boolean tryRef() {
        return RefCounts.tryIncrement(refs);
    }

    /** Releases a reference; the last one releases the version's tables. */
    public void unref() {
        int left = refs.decrementAndGet();
        if (left == 0) {
            for (List<TableHandle> level : levels) {
                for (TableHandle table : level) {
                    table.unref();
                }
            }
        } else if (left < 0) {
            throw new IllegalStateException("version released too often");
        }
    }

    /**
     * Drops a version that was never installed, releasing its table references without deleting
     * anything: after a failed manifest write the edit may or may not be on disk.
     */
    void abandon() {
        refs.set(0);
        for (List<TableHandle> level : levels) {
            for (TableHandle table : level) {
                table.forget();
            }
        }
    }

    public int levelCount() {
        return levels.size();
    }

    /** The tables of a level: oldest first for level 0, by key elsewhere. */
    public List<TableHandle> tables(int level) {
        return levels.get(level);
    }

    /**
     * Level 0 as sublevels (as in Pebble), lowest first: each a list of non-overlapping tables
     * sorted by key. A table sits one sublevel above the highest sublevel holding an older (lower
     * file number) level-0 table whose user-key range overlaps its own, or in sublevel 0 if none
     * does; so of two tables that may both hold a key, the newer is in the higher sublevel, and a
     * read looks at no more than one table per sublevel, newest sublevel first. The tables of one
     * flush never overlap each other, so a flush adds at most one sublevel: compaction triggers
     * and write throttling count sublevels, not tables.
     */
    public List<List<TableHandle>> level0Sublevels() {
        return level0Sublevels;
    }

    private static List<List<TableHandle>> sublevels(List<TableHandle> level0) {
        List<List<TableHandle>> sublevels = new ArrayList<>();
        int[] sublevelOf = new int[level0.size()];
        for (int i = 0; i < level0.size(); i++) {
            TableMeta table = level0.get(i).meta();
            int sublevel = 0;
            for (int older = 0; older < i; older++) {
                if (sublevelOf[older] >= sublevel
                        && level0.get(older).meta().overlapsUserRange(table.smallestUserKey(), table.largestUserKey())) {
                    sublevel = sublevelOf[older] + 1;
                }
            }
            sublevelOf[i] = sublevel;
            if (sublevel == sublevels.size()) {
                sublevels.add(new ArrayList<>());
            }
            sublevels.get(sublevel).add(level0.get(i));
        }
        List<List<TableHandle>> sorted = new ArrayList<>(sublevels.size());
        for (List<TableHandle> sublevel : sublevels) {
            sublevel.sort((a, b) -> Bytes.compare(a.meta().smallestUserKey(), b.meta().smallestUserKey()));
            sorted.add(List.copyOf(sublevel));
        }
        return Collections.unmodifiableList(sorted);
    }

    public long levelBytes(int level) {
        long bytes = 0;
        for (TableHandle table : levels.get(level)) {
            bytes += table.meta().fileSize();
        }
        return bytes;
    }

    /**
     * The newest version of {@code userKey} at or below {@code readVersion} in the tables, or null:
     * at most one table per level-0 sublevel, highest first, then at most one table per deeper level.
     */
    public ValueStruct get(byte[] userKey, long readVersion) {
        for (int i = level0Sublevels.size() - 1; i >= 0; i--) {
            TableHandle table = findTable(level0Sublevels.get(i), userKey);
            if (table != null) {
                ValueStruct found = table.reader().get(userKey, readVersion);
                if (found != null) {
                    return found;
                }
            }
        }
        for (int level = 1; level < levels.size(); level++) {
            TableHandle table = findTable(levels.get(level), userKey);
            if (table != null) {
                ValueStruct found = table.reader().get(userKey, readVersion);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    /** In a sorted level or level-0 sublevel, the table whose user-key range contains {@code userKey}, or null. */
    static TableHandle findTable(List<TableHandle> level, byte[] userKey) {
        int low = 0;
        int high = level.size();
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (Bytes.compare(level.get(mid).meta().largestUserKey(), userKey) < 0) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        if (low < level.size() && Bytes.compare(level.get(low).meta().smallestUserKey(), userKey) <= 0) {
            return level.get(low);
        }
        return null;
    }
}
