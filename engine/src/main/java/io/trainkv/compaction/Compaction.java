package io.trainkv.compaction;

import io.trainkv.manifest.TableHandle;
import io.trainkv.manifest.TableMeta;
import io.trainkv.manifest.Version;
import io.trainkv.util.Bytes;
import java.util.ArrayList;
import java.util.List;

/**
 * One unit of compaction work: input tables of one level, the overlapping tables of the output
 * level, and the version they were picked from (held referenced until the work is done, so the
 * inputs stay readable). A level-0 compaction may also pass through the base level
 * ({@link #passedThrough()}): it then takes the base level's overlapping tables too and writes into
 * the level below it.
 */
public final class Compaction {

    private final Version version;
    private final int level;
    private final int outputLevel;
    private final List<TableHandle> inputs;
    private final List<TableHandle> overlaps;
    private final List<TableHandle> passedThrough;

    Compaction(Version version, int level, int outputLevel, List<TableHandle> inputs, List<TableHandle> overlaps) {
        this(version, level, outputLevel, inputs, List.of(), overlaps);
    }

    /**
     * A compaction from {@code level} into {@code outputLevel} that also takes {@code passedThrough},
     * tables of level {@code outputLevel - 1}, when that level lies between the two.
     */
    Compaction(Version version, int level, int outputLevel, List<TableHandle> inputs,
               List<TableHandle> passedThrough, List<TableHandle> overlaps) {
        this.version = version;
        this.level = level;
        this.outputLevel = outputLevel;
        this.inputs = List.copyOf(inputs);
        this.passedThrough = List.copyOf(passedThrough);
        this.overlaps = List.copyOf(overlaps);
    }

    public Version version() {
        return version;
    }

    public int level() {
        return level;
    }

    public int outputLevel() {
        return outputLevel;
    }

    /** Tables taken from {@link #level()}; for level 0 oldest first. */
    public List<TableHandle> inputs() {
        return inputs;
    }

    /** Tables of the output level whose keys overlap the inputs. */
    public List<TableHandle> overlaps() {
        return overlaps;
    }

    /**
     * Tables of level {@code outputLevel() - 1} taken on the way down when that level lies between
     * {@link #level()} and the output level (a level-0 compaction through the base level); empty
     * otherwise.
     */
    public List<TableHandle> passedThrough() {
        return passedThrough;
    }

    /** Every table the compaction reads. */
    public List<TableHandle> allTables() {
        List<TableHandle> all = new ArrayList<>(inputs);
        all.addAll(passedThrough);
        all.addAll(overlaps);
        return all;
    }

    /** A single input that overlaps nothing below can move down without being rewritten. */
    public boolean isTrivialMove() {
        return inputs.size() == 1 && passedThrough.isEmpty() && overlaps.isEmpty();
    }

    public long inputBytes() {
        long bytes = 0;
        for (TableHandle t : allTables()) {
            bytes += t.meta().fileSize();
        }
        return bytes;
    }

    /**
     * Whether no level below the output level holds any version of {@code userKey}: then a
     * tombstone or expired entry at the output level hides nothing and can go.
     */
    public boolean isBottommostFor(byte[] userKey) {
        for (int deeper = outputLevel + 1; deeper < version.levelCount(); deeper++) {
            for (TableHandle t : version.tables(deeper)) {
                if (t.meta().overlapsUserRange(userKey, userKey)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The user-key range covered by {@code tables}: {smallest, largest}. */
    static byte[][] userRange(List<TableHandle> tables) {
        byte[] smallest = null;
        byte[] largest = null;
        for (TableHandle t : tables) {
            TableMeta m = t.meta();
            if (smallest == null || Bytes.compare(m.smallestUserKey(), smallest) < 0) {
                smallest = m.smallestUserKey();
            }
            if (largest == null || Bytes.compare(m.largestUserKey(), largest) > 0) {
                largest = m.largestUserKey();
            }
        }
        return new byte[][] {smallest, largest};
    }

    @Override
    public String toString() {
        return "compaction L" + level + " -> L" + outputLevel + " (" + inputs.size() + " + "
                + (passedThrough.isEmpty() ? "" : passedThrough.size() + " + ") + overlaps.size()
                + " tables, " + inputBytes() + " bytes)";
    }
}
