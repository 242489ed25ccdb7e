package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * compact and vlog-gc leave a directory that check passes and that holds exactly the same data
 * (compared through dump), and every data-printing tool's --json output is JSON.
 */
class MaintenanceRoundTripTest {

    @TempDir
    Path tempDir;

    /** Three rounds of overwrites and deletes with separated values: garbage in the value log, shape in L0. */
    private Path database() {
        Path db = tempDir.resolve("db");
        try (TrainKV opened = TrainKV.open(Options.at(db).valueThreshold(64).valueLogFileSize(64 * 1024)
                .level0Triggers(100, 200, 300))) {
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 300; i++) {
                    opened.set(String.format("key-%04d", i), "round " + round + " " + "x".repeat(300 + i % 50));
                }
                for (int i = round; i < 300; i += 7) {
                    opened.delete(String.format("key-%04d", i));
                }
                opened.flush();
            }
            opened.set("only-in-the-wal", "y".repeat(200));
        }
        return db;
    }

    private static String dump(Path db) {
        ToolRun dump = ToolRun.of("dump", db.toString(), "--format", "jsonl");
        assertEquals(0, dump.code(), dump.err());
        return dump.out();
    }

    private static void assertChecks(Path db) {
        ToolRun check = ToolRun.of("check", db.toString());
        assertEquals(0, check.code(), check.out() + check.err());
        assertTrue(check.out().endsWith("check: no problems found\n"), check.out());
    }

    @Test
    void compactThenVlogGcKeepExactlyTheSameDataAndPassCheck() {
        Path db = database();
        assertChecks(db);
        String before = dump(db);
        assertTrue(before.contains("only-in-the-wal"), "the dump reads the WAL too");

        ToolRun compact = ToolRun.of("compact", db.toString(), "--json");
        assertEquals(0, compact.code(), compact.err());
        Map<String, Object> shape = JsonReader.object(compact.out());
        assertTrue((Long) shape.get("compactions") > 0, compact.out());
        List<?> after = (List<?>) shape.get("after");
        assertEquals(1, after.size(), "flattened into one level: " + compact.out());
        assertChecks(db);
        assertEquals(before, dump(db), "compaction changed no key or value");

        ToolRun gc = ToolRun.of("vlog-gc", db.toString(), "--ratio", "0.3", "--json");
        assertEquals(0, gc.code(), gc.err());
        Map<String, Object> report = JsonReader.object(gc.out());
        assertTrue((Long) report.get("collectedFiles") > 0, gc.out());
        assertTrue((Long) report.get("reclaimedBytes") > 0, gc.out());
        assertChecks(db);
        assertEquals(before, dump(db), "value-log GC changed no key or value");
    }

    @Test
    void vlogGcFilesCollectsExactlyTheNamedFiles() throws Exception {
        Path db = database();
        Map<String, String> untouched = LoadDumpCommandTest.fingerprint(db);
        assertEquals(0, ToolRun.of("vlog-gc", db.toString(), "--sample-only").code());
        assertEquals(untouched, LoadDumpCommandTest.fingerprint(db), "sampling opens read-only and writes nothing");
        Map<String, Object> sample = JsonReader.object(ToolRun.of("vlog-gc", db.toString(), "--sample-only", "--json").out());
        List<?> files = (List<?>) sample.get("files");
        assertTrue(files.size() >= 3, sample.toString());
        long first = (Long) ((Map<?, ?>) files.get(0)).get("file");
        long second = (Long) ((Map<?, ?>) files.get(1)).get("file");
        String before = dump(db);

        ToolRun gc = ToolRun.of("vlog-gc", db.toString(), "--files", first + "," + second, "--json");
        assertEquals(0, gc.code(), gc.err());
        Map<String, Object> report = JsonReader.object(gc.out());
        assertEquals(2L, report.get("collectedFiles"), gc.out());
        assertEquals(List.of(first, second), ((List<?>) report.get("files")).stream()
                .map(f -> ((Map<?, ?>) f).get("file")).toList());
        assertFalse(Files.exists(db.resolve(String.format("%06d.vlog", first))), "collected and deleted");
        assertTrue(Files.exists(db.resolve(String.format("%06d.vlog", (Long) ((Map<?, ?>) files.get(2)).get("file")))),
                "a file not named is untouched");
        assertChecks(db);
        assertEquals(before, dump(db));

        ToolRun unknown = ToolRun.of("vlog-gc", db.toString(), "--files", "999999");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("value-log file 999999 (999999.vlog) is not in"), unknown.err());
        ToolRun notADatabase = ToolRun.of("vlog-gc", tempDir.resolve("nothing").toString());
        assertEquals(2, notADatabase.code());
        assertFalse(Files.exists(tempDir.resolve("nothing")), "no database was created");
    }

    @Test
    void everyInspectionToolPrintsJson() {
        Path db = database();
        String dir = db.toString();
        Map<String, Object> manifest = JsonReader.object(ToolRun.of("manifest-dump", dir, "--json").out());
        assertEquals(true, manifest.get("ok"));
        assertFalse(((List<?>) manifest.get("edits")).isEmpty(), manifest.toString());
        for (String tool : new String[] {"wal-dump", "vlog-dump", "vlog-verify", "wal-verify"}) {
            ToolRun run = ToolRun.of(tool, dir, "--json");
            assertEquals(0, run.code(), tool + run.err());
            List<String> lines = run.out().lines().toList();
            assertFalse(lines.isEmpty(), tool);
            for (String line : lines) {
                assertEquals(true, JsonReader.object(line).get("ok"), tool + ": " + line);
            }
        }
        String walDump = ToolRun.of("wal-dump", dir, "--json").out();
        assertTrue(walDump.contains("only-in-the-wal"), walDump);
        Map<String, Object> check = JsonReader.object(ToolRun.of("check", dir, "--json").out());
        assertEquals(true, check.get("ok"));
        assertEquals(List.of("manifest-verify", "sstdump", "wal-verify", "vlog-verify"),
                ((List<?>) check.get("steps")).stream().map(s -> ((Map<?, ?>) s).get("tool")).toList());
        assertTrue((Long) ((Map<?, ?>) check.get("valuePointers")).get("checked") > 0, check.toString());
    }
}
