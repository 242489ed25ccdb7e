package io.trainkv.compaction;

import static io.trainkv.manifest.TestVersions.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.trainkv.manifest.TableHandle;
import io.trainkv.manifest.TableMeta;
import io.trainkv.manifest.TestVersions;
import io.trainkv.manifest.Version;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Which table of an over-full level the picker compacts into the next one. */
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
}
