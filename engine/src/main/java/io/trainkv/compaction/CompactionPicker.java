package io.trainkv.compaction;

import io.trainkv.manifest.TableHandle;
import io.trainkv.manifest.Version;
import io.trainkv.util.Bytes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Chooses the next compaction: the level with the highest score (see {@link LevelTargets}) of at
 * least 1 whose tables are not already being compacted. Level 0 compacts all its tables into the
 * base level (level-0 tables overlap, so taking them all keeps newer data above older data), or
 * through it into the level below when that writes fewer bytes (see {@link #passingThroughSaves}).
 * Deeper levels compact one table at a time into the next level, the one with the smallest ratio
 * of overlapping next-level bytes to its own size (see {@link #pickLevel}). Also builds the forced compactions of {@code compactRange}.
 */
final class CompactionPicker {

    private final long baseLevelSize;
    private final int multiplier;
    private final int level0Trigger;

    CompactionPicker(long baseLevelSize, int multiplier, int level0Trigger) {
        this.baseLevelSize = baseLevelSize;
        this.multiplier = multiplier;
        this.level0Trigger = level0Trigger;
    }

    LevelTargets targets(Version version) {
        return LevelTargets.compute(version, baseLevelSize, multiplier);
    }

    /** The most urgent compaction not touching {@code busy} tables, or null. Does not take a reference. */
    Compaction pick(Version version, Set<Long> busy) {
        LevelTargets targets = targets(version);
        int levels = version.levelCount();
        List<Integer> order = new ArrayList<>();
        for (int level = 0; level < levels - 1; level++) {
            if (targets.score(version, level, level0Trigger) >= 1) {
                order.add(level);
            }
        }
        order.sort((a, b) -> Double.compare(targets.score(version, b, level0Trigger),
                targets.score(version, a, level0Trigger)));
        for (int level : order) {
            Compaction c = level == 0 ? pickLevel0(version, targets, busy) : pickLevel(version, level, busy);
            if (c != null) {
                return c;
            }
        }
        return null;
    }

    /**
     * All of level 0 into the base level with the base level's overlapping tables; or, when
     * {@link #passingThroughSaves} says so, all of those and the overlapping tables of the level
     * below the base level into that lower level ({@link Compaction#passedThrough()}).
     */
    private Compaction pickLevel0(Version version, LevelTargets targets, Set<Long> busy) {
        int baseLevel = targets.baseLevel();
        List<TableHandle> inputs = version.tables(0);
        if (inputs.isEmpty() || anyBusy(inputs, busy)) {
            return null;
        }
        List<TableHandle> overlaps = overlapping(version.tables(baseLevel), Compaction.userRange(inputs));
        if (anyBusy(overlaps, busy)) {
            return null;
        }
        if (baseLevel + 1 < version.levelCount()) {
            List<TableHandle> upper = new ArrayList<>(inputs);
            upper.addAll(overlaps);
            List<TableHandle> below = overlapping(version.tables(baseLevel + 1), Compaction.userRange(upper));
            if (!anyBusy(below, busy) && passingThroughSaves(bytes(upper), bytes(below), targets.target(baseLevel))) {
                return new Compaction(version, 0, baseLevel + 1, inputs, overlaps, below);
            }
        }
        return new Compaction(version, 0, baseLevel, inputs, overlaps);
    }

    /**
     * Whether a level-0 compaction should go through the base level into the level below it, by
     * the bytes each choice writes. Passing through writes the {@code below} bytes of the lower
     * level's overlapping tables on top of the {@code upper} bytes (level 0 and the base level's
     * overlapping tables) that either choice writes. Stopping in the base level writes, within one
     * round, what the merge leads to: the part of the merged base level over its {@code target}
     * (bytes) moves down file by file, each byte rewriting {@code below / upper} bytes of the lower
     * level (the file pick's overlap ratio, for keys spread like these), and what stays is
     * rewritten by the next level-0 merge. So pass through when
     * {@code below <= max(0, upper - target) * (1 + below / upper) + min(upper, target)}, which is
     * {@code upper >= below} while the base level stays under its target and
     * {@code upper * upper >= below * target} once it goes over.
     *
     * <p>It fires where the tree is shaped against leveled compaction's size ratio (each level a
     * multiplier times larger than the one above: LevelDB, RocksDB's "Leveled Compaction" and its
     * dynamic level sizes, the size ratio T of the Monkey and Dostoevsky analyses): after the base
     * level moved up, a base level about as large as the level below it, whose bytes would move
     * down at nearly one lower-level byte rewritten per byte moved and be rewritten again by every
     * level-0 merge meanwhile. Once the lower level is a few times larger it never fires. Adding
     * the next level to a compaction when that writes fewer bytes per byte moved is Pebble's
     * multilevel compaction. The lower level's share is bounded: at most {@code upper} bytes while
     * the base level stays under its target, at most {@code upper * upper / target} once it goes over.
     */
    static boolean passingThroughSaves(long upper, long below, long target) {
        double stopping = Math.max(0, upper - target) * (1 + below / (double) upper) + Math.min(upper, target);
        return below <= stopping;
    }

    /**
     * The table of {@code level} whose compaction rewrites the fewest bytes of level + 1 per byte
     * it moves down (the smallest ratio of overlapping next-level bytes to its own size), among
     * tables that neither are busy nor overlap a busy table. This is RocksDB's default file pick
     * ({@code kMinOverlappingRatio}): it moves the tables that are cheapest to merge first, where
     * LevelDB's round-robin walk of the key space rewrites whatever next-level tables the next
     * table in turn happens to cover. Ties go to the table with the smaller keys.
     */
    private Compaction pickLevel(Version version, int level, Set<Long> busy) {
        List<TableHandle> tables = version.tables(level);
        List<TableHandle> next = version.tables(level + 1);
        TableHandle best = null;
        double bestRatio = Double.MAX_VALUE;
        int firstOverlap = 0;
        for (TableHandle candidate : tables) {
            byte[] smallest = candidate.meta().smallestUserKey();
            byte[] largest = candidate.meta().largestUserKey();
            while (firstOverlap < next.size()
                    && Bytes.compare(next.get(firstOverlap).meta().largestUserKey(), smallest) < 0) {
                firstOverlap++;
            }
            if (busy.contains(candidate.meta().fileNumber())) {
                continue;
            }
            long overlapBytes = 0;
            boolean overlapsBusy = false;
            for (int i = firstOverlap; i < next.size()
                    && Bytes.compare(next.get(i).meta().smallestUserKey(), largest) <= 0; i++) {
                overlapBytes += next.get(i).meta().fileSize();
                overlapsBusy |= busy.contains(next.get(i).meta().fileNumber());
            }
            double ratio = overlapBytes / (double) Math.max(1, candidate.meta().fileSize());
            if (!overlapsBusy && ratio < bestRatio) {
                best = candidate;
                bestRatio = ratio;
            }
        }
        if (best == null) {
            return null;
        }
        List<TableHandle> inputs = List.of(best);
        return new Compaction(version, level, level + 1, inputs, overlapping(next, Compaction.userRange(inputs)));
    }

    /**
     * The forced compaction of the tables of {@code level} overlapping {@code [from, to]} (null =
     * unbounded) into the next level, or null if the level has none there. Level 0 always takes
     * all its tables.
     */
    Compaction pickRange(Version version, int level, byte[] from, byte[] to) {
        List<TableHandle> inputs = level == 0 ? version.tables(0)
                : overlapping(version.tables(level), new byte[][] {from, to});
        if (inputs.isEmpty() || (level == 0 && overlapping(inputs, new byte[][] {from, to}).isEmpty())) {
            return null;
        }
        List<TableHandle> overlaps = overlapping(version.tables(level + 1), Compaction.userRange(inputs));
        return new Compaction(version, level, level + 1, inputs, overlaps);
    }

    private static List<TableHandle> overlapping(List<TableHandle> tables, byte[][] range) {
        List<TableHandle> result = new ArrayList<>();
        for (TableHandle t : tables) {
            if (t.meta().overlapsUserRange(range[0], range[1])) {
                result.add(t);
            }
        }
        return result;
    }

    private static long bytes(List<TableHandle> tables) {
        long bytes = 0;
        for (TableHandle t : tables) {
            bytes += t.meta().fileSize();
        }
        return bytes;
    }

    private static boolean anyBusy(List<TableHandle> tables, Set<Long> busy) {
        for (TableHandle t : tables) {
            if (busy.contains(t.meta().fileNumber())) {
                return true;
            }
        }
        return false;
    }
}
