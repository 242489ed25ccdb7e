package io.trainkv.compaction;

import static io.trainkv.manifest.TestVersions.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.manifest.TableHandle;
import io.trainkv.manifest.TableMeta;
import io.trainkv.manifest.TestVersions;
import io.trainkv.manifest.Version;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Which table of an over-full level the picker compacts into the next one, and whether a level-0
 * compaction stops in the base level or passes through it.
 */
class CompactionPickerTest {

    private static final long MIB = 1024 * 1024;

    /** Level 1 over its 1 MiB target holds three tables; level 2 is the bottom level. */
    private static Version shape(List<TableMeta> level2) {
        List<TableMeta> level1 = List.of(
                table(1, MIB, "a", "c"),
                table(2, MIB, "d", "f"),
                table(3, MIB, "g", "i"));
        return TestVersions.of(List.of(List.of(), level1, level2));
    }

    private static List<Long> numbers(List<TableHandle> tables) {
        return tables.stream().map(t -> t.meta().fileNumber()).collect(Collectors.toList());
    }

    @Test
    void theTableWithTheLeastNextLevelBytesPerOwnByteGoesFirst() {
        Version version = shape(List.of(
                table(10, 8 * MIB, "a", "b"),
                table(11, 8 * MIB, "b", "c"),
                table(12, MIB, "e", "e"),
                table(13, 4 * MIB, "h", "h")));
        Compaction c = new CompactionPicker(MIB, 10, 4).pick(version, Set.of());
        assertEquals(1, c.level());
        assertEquals(List.of(2L), numbers(c.inputs()));
        assertEquals(List.of(12L), numbers(c.overlaps()));
    }

    @Test
    void aTableThatOverlapsNothingBelowIsATrivialMove() {
        Version version = shape(List.of(
                table(10, MIB, "a", "a"),
                table(12, MIB, "e", "e")));
        Compaction c = new CompactionPicker(MIB, 10, 4).pick(version, Set.of());
        assertEquals(List.of(3L), numbers(c.inputs()));
        assertEquals(List.of(), numbers(c.overlaps()));
    }

    @Test
    void busyTablesAndTablesOverBusyOnesAreSkipped() {
        Version version = shape(List.of(
                table(10, 8 * MIB, "a", "c"),
                table(12, MIB, "e", "e"),
                table(13, 2 * MIB, "h", "h")));
        CompactionPicker picker = new CompactionPicker(MIB, 10, 4);
        assertEquals(List.of(3L), numbers(picker.pick(version, Set.of(2L)).inputs()));
        assertEquals(List.of(3L), numbers(picker.pick(version, Set.of(12L)).inputs()));
        assertEquals(List.of(1L), numbers(picker.pick(version, Set.of(2L, 13L)).inputs()));
        assertNull(picker.pick(version, Set.of(1L, 2L, 3L)));
    }

    /**
     * Level 0 and the base level (level 1, target 4 MiB: the bottom is under ten times that) over
     * level 2 (the bottom), each spanning the whole key range; level 0 compacts at one sublevel.
     */
    private static Version level0Over(long baseTableBytes, long bottomTableBytes) {
        return TestVersions.of(List.of(
                List.of(table(1, 2 * MIB, "a", "z"), table(2, 2 * MIB, "b", "y")),
                List.of(table(3, baseTableBytes, "a", "m"), table(4, baseTableBytes, "n", "z")),
                List.of(table(5, bottomTableBytes, "a", "k"), table(6, bottomTableBytes, "l", "s"),
                        table(7, bottomTableBytes, "t", "z"))));
    }

    @Test
    void level0PassesThroughABaseLevelThatWouldEndUpAsLargeAsTheLevelBelow() {
        // level 0 (4 MiB) and the base level (4 MiB) over 9 MiB below: stopping in the base level
        // would leave it at 8 MiB, 4 MiB over its target, to move down at about one lower-level
        // byte per byte: 4 * (1 + 9/8) + 4 = 12.5 MiB >= the 9 MiB that passing through adds.
        Compaction c = new CompactionPicker(4 * MIB, 10, 1).pick(level0Over(2 * MIB, 3 * MIB), Set.of());
        assertEquals(0, c.level());
        assertEquals(2, c.outputLevel());
        assertEquals(List.of(1L, 2L), numbers(c.inputs()));
        assertEquals(List.of(3L, 4L), numbers(c.passedThrough()));
        assertEquals(List.of(5L, 6L, 7L), numbers(c.overlaps()));
        assertFalse(c.isTrivialMove());
    }

    @Test
    void level0StopsInTheBaseLevelOverALevelSeveralTimesLarger() {
        // 8 MiB over 30 MiB: 4 * (1 + 30/8) + 4 = 23 MiB < 30 MiB.
        Compaction c = new CompactionPicker(4 * MIB, 10, 1).pick(level0Over(2 * MIB, 10 * MIB), Set.of());
        assertEquals(1, c.outputLevel());
        assertEquals(List.of(), numbers(c.passedThrough()));
        assertEquals(List.of(3L, 4L), numbers(c.overlaps()));
    }

    @Test
    void level0StopsInTheBaseLevelWhenATableBelowIsBusy() {
        Compaction c = new CompactionPicker(4 * MIB, 10, 1).pick(level0Over(2 * MIB, 3 * MIB), Set.of(6L));
        assertEquals(1, c.outputLevel());
        assertEquals(List.of(3L, 4L), numbers(c.overlaps()));
    }

    @Test
    void passingThroughIsChosenByTheBytesEachChoiceWrites() {
        // under the base level's target: pass through when the level below holds no more
        assertTrue(CompactionPicker.passingThroughSaves(100, 100, 256));
        assertFalse(CompactionPicker.passingThroughSaves(100, 101, 256));
        // over it: when upper^2 >= below * target
        assertTrue(CompactionPicker.passingThroughSaves(440, 439, 256));
        assertTrue(CompactionPicker.passingThroughSaves(512, 1024, 256));
        assertFalse(CompactionPicker.passingThroughSaves(512, 1025, 256));
        assertFalse(CompactionPicker.passingThroughSaves(220, 879, 256));
    }
}
