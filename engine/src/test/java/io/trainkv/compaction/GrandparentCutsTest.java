package io.trainkv.compaction;

import static io.trainkv.manifest.TestVersions.table;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import io.trainkv.manifest.TableMeta;
import io.trainkv.manifest.TestVersions;
import io.trainkv.manifest.Version;
import io.trainkv.sstable.TableOutputs;
import io.trainkv.storage.NioStorage;
import io.trainkv.util.Bytes;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Compaction outputs cut by the grandparent level: real tables written through
 * {@link TableOutputs} with {@link GrandparentCuts}, checked against grandparent tables given as
 * metadata alone.
 */
class GrandparentCutsTest {

    private static final long KIB = 1024;
    private static final int VERSIONS = 3;

    private NioStorage storage;
    private final AtomicLong fileNumbers = new AtomicLong(100);

    @BeforeEach
    void setUp() throws IOException {
        storage = NioStorage.open(Jimfs.newFileSystem(Configuration.unix()).getPath("/db"));
    }

    private static String key(int i) {
        return String.format("k%06d", i);
    }

    /** Writes user keys {@code keys}, each with {@link #VERSIONS} versions of 40 bytes, cut by {@code grandparents}. */
    private List<TableMeta> write(List<String> keys, List<TableMeta> grandparents, long targetFileSize)
            throws IOException {
        TableOutputs outputs = new TableOutputs(storage, fileNumbers::incrementAndGet,
                new GrandparentCuts(grandparents, targetFileSize), 256, 10);
        for (String userKey : keys) {
            for (int v = VERSIONS; v >= 1; v--) {
                byte[] key = KeyFormat.encode(Bytes.utf8(userKey), v);
                outputs.add(key, key.length, new ValueStruct(v, (byte) 0, (byte) 0, ValueStruct.NO_EXPIRY, new byte[40]));
            }
        }
        return outputs.finish();
    }

    private static List<String> keys(int from, int to) {
        List<String> keys = new ArrayList<>();
        for (int i = from; i < to; i++) {
            keys.add(key(i));
        }
        return keys;
    }

    private static long overlapBytes(TableMeta output, List<TableMeta> grandparents) {
        long bytes = 0;
        for (TableMeta g : grandparents) {
            if (g.overlapsUserRange(output.smallestUserKey(), output.largestUserKey())) {
                bytes += g.fileSize();
            }
        }
        return bytes;
    }

    /** Every table holds whole user keys: it starts with a key's newest version and ends with its oldest. */
    private static void assertWholeUserKeys(List<TableMeta> tables) {
        for (int i = 0; i < tables.size(); i++) {
            assertEquals(VERSIONS, KeyFormat.version(tables.get(i).smallestKey()), "table " + i + " starts a user key");
            assertEquals(1, KeyFormat.version(tables.get(i).largestKey()), "table " + i + " ends a user key");
            if (i > 0) {
                assertTrue(Bytes.compare(tables.get(i - 1).largestUserKey(), tables.get(i).smallestUserKey()) < 0);
            }
        }
    }

    @Test
    void outputsPastHalfTheTargetEndWhereAGrandparentTableBegins() throws IOException {
        List<TableMeta> grandparents = new ArrayList<>();
        for (int g = 0; g < 30; g++) { // each grandparent table holds 32 user keys
            grandparents.add(table(g + 1, 4 * KIB, key(32 * g), key(32 * g + 31)));
        }
        long target = 8 * KIB; // about 45 user keys of three 40-byte versions: past half of it after about 22
        List<TableMeta> outputs = write(keys(0, 32 * 30), grandparents, target);

        assertWholeUserKeys(outputs);
        assertEquals(30, outputs.size(), "one output per grandparent table");
        for (int i = 0; i < outputs.size(); i++) {
            assertArrayEquals(grandparents.get(i).smallestUserKey(), outputs.get(i).smallestUserKey(), "output " + i);
            assertArrayEquals(grandparents.get(i).largestUserKey(), outputs.get(i).largestUserKey(), "output " + i);
            assertEquals(4 * KIB, overlapBytes(outputs.get(i), grandparents), "no grandparent table is shared");
            assertTrue(outputs.get(i).fileSize() >= target / 2, "not cut below half the target: " + outputs.get(i));
        }
    }

    @Test
    void pastTheTargetAnOutputGrowsToTheNextGrandparentBoundaryUpToTwiceTheTarget() throws IOException {
        long target = 8 * KIB; // about 45 user keys
        List<TableMeta> grandparents = new ArrayList<>();
        for (int g = 0; g < 10; g++) { // 60 user keys each: past the target, short of twice it
            grandparents.add(table(g + 1, 4 * KIB, key(60 * g), key(60 * g + 59)));
        }
        for (int g = 0; g < 2; g++) { // then 400 user keys each: far past twice the target
            grandparents.add(table(g + 11, 4 * KIB, key(600 + 400 * g), key(600 + 400 * g + 399)));
        }
        List<TableMeta> outputs = write(keys(0, 1_400), grandparents, target);

        assertWholeUserKeys(outputs);
        for (int i = 0; i < 10; i++) {
            assertArrayEquals(grandparents.get(i).smallestUserKey(), outputs.get(i).smallestUserKey(), "output " + i);
            assertArrayEquals(grandparents.get(i).largestUserKey(), outputs.get(i).largestUserKey(), "output " + i);
            assertTrue(outputs.get(i).fileSize() > target, "past the target: " + outputs.get(i));
        }
        List<TableMeta> stretched = outputs.subList(10, outputs.size());
        assertTrue(stretched.size() >= 800 / 90, "cut at twice the target inside wide grandparents: " + stretched.size());
        for (TableMeta output : stretched) {
            assertTrue(output.fileSize() < 2 * target + KIB, "at most about twice the target: " + output);
        }
    }

    @Test
    void anOutputEndsBeforeItWouldOverlapTenTargetsOfGrandparentBytes() throws IOException {
        long target = 64 * KIB;
        List<TableMeta> grandparents = new ArrayList<>();
        for (int g = 0; g < 50; g++) { // 100 KiB per two user keys: the bound is crossed within 14 keys
            grandparents.add(table(g + 1, 100 * KIB, key(2 * g), key(2 * g + 1)));
        }
        List<TableMeta> outputs = write(keys(0, 100), grandparents, target); // 100 keys: about 18 KiB, under the target

        assertWholeUserKeys(outputs);
        assertTrue(outputs.size() >= 100 / 14, "cut by grandparent bytes, not by size: " + outputs.size());
        long maxOverlap = GrandparentCuts.MAX_OVERLAP_FILES * target;
        for (TableMeta output : outputs) {
            long overlap = overlapBytes(output, grandparents);
            assertTrue(overlap <= maxOverlap, output + " overlaps " + overlap + " grandparent bytes");
            assertTrue(overlap > maxOverlap - 100 * KIB || output == outputs.get(outputs.size() - 1),
                    "cut only at the bound: " + output + " overlaps " + overlap);
        }
    }

    @Test
    void aGapOverWholeGrandparentTablesEndsTheOutputSoEachPartMovesDownTrivially() throws IOException {
        long target = 64 * KIB;
        List<TableMeta> grandparents = List.of(
                table(1, 16 * KIB, key(500), key(600)), // a quarter of the target: worth a table of its own
                table(2, KIB, key(1_100), key(1_200))); // under an eighth of the target: not worth one
        List<String> keys = new ArrayList<>(keys(0, 10));
        keys.addAll(keys(1_000, 1_010));
        keys.addAll(keys(2_000, 2_010));
        List<TableMeta> outputs = write(keys, grandparents, target);

        assertWholeUserKeys(outputs);
        assertEquals(2, outputs.size(), "cut in the gap over the large grandparent table only");
        assertArrayEquals(Bytes.utf8(key(9)), outputs.get(0).largestUserKey());
        assertArrayEquals(Bytes.utf8(key(1_000)), outputs.get(1).smallestUserKey());
        assertEquals(0, overlapBytes(outputs.get(0), grandparents));

        // As level 1 over its target with the grandparents as level 2, the first output overlaps nothing below:
        // the picker moves it down without rewriting it.
        List<TableMeta> level1 = new ArrayList<>();
        for (TableMeta output : outputs) {
            level1.add(TestVersions.table(output.fileNumber(), 1024 * KIB, // level 1 well over its target
                    new String(output.smallestUserKey()), new String(output.largestUserKey())));
        }
        Version version = TestVersions.of(List.of(List.of(), level1, grandparents));
        Compaction move = new CompactionPicker(target, 10, 4).pick(version, Set.of());
        assertEquals(1, move.level());
        assertEquals(outputs.get(0).fileNumber(), move.inputs().get(0).meta().fileNumber());
        assertTrue(move.isTrivialMove(), move.toString());
    }

    @Test
    void withNoGrandparentsOutputsAreCutBySizeAlone() throws IOException {
        long target = 8 * KIB;
        List<TableMeta> outputs = write(keys(0, 400), List.of(), target);
        assertWholeUserKeys(outputs);
        for (TableMeta output : outputs.subList(0, outputs.size() - 1)) {
            assertTrue(output.fileSize() >= target && output.fileSize() < target + KIB, "at the target: " + output);
        }
    }
}
