package io.trainkv.compaction;

import io.trainkv.manifest.Version;

/**
 * Dynamic level targets, after RocksDB's {@code level_compaction_dynamic_level_bytes}: the largest
 * level below L0 sets the bottom level's target, each level above it gets a target
 * {@code multiplier} times smaller, and the walk stops at the first level whose target is at most
 * the base level size. That level is the base level, the one level 0 compacts into; levels between
 * L0 and it have no target and stay empty. So the tree has as few levels as its size needs and the
 * size ratio between adjacent levels stays near the multiplier. When the data shrinks, the base
 * level never moves below the shallowest non-empty level, so level 0 stays above all older data.
 */
public final class LevelTargets {

    private final int baseLevel;
    private final long[] targets;
    private final long baseLevelSize;

    private LevelTargets(int baseLevel, long[] targets, long baseLevelSize) {
        this.baseLevel = baseLevel;
        this.targets = targets;
        this.baseLevelSize = baseLevelSize;
    }

    public static LevelTargets compute(Version version, long baseLevelSize, int multiplier) {
        int levels = version.levelCount();
        int bottom = levels - 1;
        long largest = 0;
        for (int level = 1; level < levels; level++) {
            largest = Math.max(largest, version.levelBytes(level));
        }
        long[] targets = new long[levels];
        long target = Math.max(largest, baseLevelSize);
        int level = bottom;
        targets[bottom] = target;
        while (level > 1 && target > baseLevelSize) {
            target /= multiplier;
            level--;
            targets[level] = Math.max(target, baseLevelSize);
        }
        int firstNonEmpty = firstNonEmptyLevel(version);
        while (level > firstNonEmpty) {
            level--;
            targets[level] = baseLevelSize;
        }
        return new LevelTargets(level, targets, baseLevelSize);
    }

    /**
     * The shallowest level below L0 holding data, or the bottom level. Level 0 must never compact
     * below it: its newer versions would land under older ones, which reads check first.
     */
    private static int firstNonEmptyLevel(Version version) {
        for (int level = 1; level < version.levelCount(); level++) {
            if (!version.tables(level).isEmpty()) {
                return level;
            }
        }
        return version.levelCount() - 1;
    }

    /** The level that level 0 compacts into. */
    public int baseLevel() {
        return baseLevel;
    }

    /** The target size of {@code level}; 0 for level 0 and for levels above the base level. */
    public long target(int level) {
        return targets[level];
    }

    /**
     * How urgently {@code level} needs compacting: level 0 by its sublevels
     * ({@link Version#level0Sublevels()}) against the trigger, or by its bytes against trigger
     * times the base level size, whichever is higher (the bytes bound level 0 when flushes do not
     * overlap, as with keys written in order, and so add no sublevel); other levels by bytes
     * against their target (a level with data but no target is urgent). A score of 1 or more
     * means "compact".
     */
    public double score(Version version, int level, int level0Trigger) {
        if (level == 0) {
            return Math.max(version.level0Sublevels().size() / (double) level0Trigger,
                    version.levelBytes(0) / ((double) level0Trigger * baseLevelSize));
        }
        long bytes = version.levelBytes(level);
        if (level == version.levelCount() - 1 || bytes == 0) {
            return 0;
        }
        return targets[level] == 0 ? Double.MAX_VALUE : bytes / (double) targets[level];
    }
}
