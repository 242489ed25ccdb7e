package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** compact, vlog-gc and load on a closed directory, and their refusals. */
class MaintenanceCommandsTest {

    @TempDir
    Path tempDir;

    private static String[] run(String... args) {
        return ToolRun.of(args).asArray();
    }

    @Test
    void loadReadsTsvCsvAndJsonLinesAndReportsBadLines() throws Exception {
        Path db = tempDir.resolve("db");
        Path tsv = tempDir.resolve("data.tsv");
        Files.writeString(tsv, "a\t1\nb\t2 with spaces\n");
        Path csv = tempDir.resolve("data.csv");
        Files.writeString(csv, "c,3\n\"d,quoted\",\"say \"\"hi\"\"\"\n");
        Path jsonl = tempDir.resolve("data.jsonl");
        Files.writeString(jsonl, "{\"key\": \"e\", \"value\": \"line\\nbreak\"}\n{\"value\": \"6\", \"key\": \"f\"}\n");
        assertEquals("0", run("load", db.toString(), tsv.toString())[0]);
        assertEquals("0", run("load", db.toString(), csv.toString())[0]);
        String[] json = run("load", db.toString(), jsonl.toString());
        assertEquals("0", json[0], json[2]);
        assertTrue(json[1].contains("loaded 2 keys"), json[1]);
        Path bad = tempDir.resolve("bad.tsv");
        Files.writeString(bad, "g\t7\nno tab here\nh\t8\n");
        String[] stopped = run("load", db.toString(), bad.toString());
        assertEquals("1", stopped[0]);
        assertTrue(stopped[2].contains("bad.tsv:2: error: expected KEY<TAB>VALUE"), stopped[2]);
        assertEquals("1", run("load", "--continue-on-error", db.toString(), bad.toString())[0]);
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            assertEquals("2 with spaces", opened.get("b"));
            assertEquals("say \"hi\"", opened.get("d,quoted"));
            assertEquals("line\nbreak", opened.get("e"));
            assertEquals("6", opened.get("f"));
            assertEquals("7", opened.get("g"));
            assertEquals("8", opened.get("h"), "continued past the bad line");
        }
    }

    @Test
    void compactAndVlogGcWorkOnAClosedDirectoryAndRefuseAnOpenOne() throws Exception {
        Path db = tempDir.resolve("db");
        try (TrainKV opened = TrainKV.open(Options.at(db).valueThreshold(100).valueLogFileSize(64 * 1024)
                .level0Triggers(100, 200, 300))) {
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 200; i++) {
                    opened.set(("key-" + i).getBytes(), new byte[500]);
                }
                opened.flush();
            }
            String[] refused = run("compact", db.toString());
            assertEquals("2", refused[0]);
            assertTrue(refused[2].contains("already open"), refused[2]);
        }
        String[] compact = run("compact", db.toString());
        assertEquals("0", compact[0], compact[2]);
        assertTrue(compact[1].contains("before:\n  L0: 3 tables") && compact[1].contains("after:\n  L7: "), compact[1]);
        String[] sample = run("vlog-gc", "--sample-only", "--ratio", "0.5", db.toString());
        assertEquals("0", sample[0], sample[2]);
        assertTrue(sample[1].contains("0 files collected"), sample[1]);
        String[] gc = run("vlog-gc", "--ratio", "0.5", db.toString());
        assertEquals("0", gc[0], gc[2]);
        assertTrue(gc[1].matches("(?s).*[1-9][0-9]* files collected.*"), gc[1]);
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            assertEquals(500, opened.get("key-7".getBytes()).length);
        }
    }

    /** Each file of {@code db} with its size in bytes and modification time: what a refused command must leave alone. */
    private static Map<String, String> listing(Path db) throws Exception {
        Map<String, String> files = new java.util.TreeMap<>();
        try (var stream = Files.list(db)) {
            for (Path file : stream.toList()) {
                files.put(file.getFileName().toString(), Files.size(file) + " " + Files.getLastModifiedTime(file).toMillis());
            }
        }
        return files;
    }

    /** A closed database whose newest keys are only in the WAL (a flush would add a table), with values in the value log. */
    private Path unflushedDatabase() {
        Path db = tempDir.resolve("unflushed");
        try (TrainKV opened = TrainKV.open(Options.at(db).valueThreshold(100))) {
            opened.set("a".getBytes(), new byte[500]);
            opened.flush();
            opened.set("b".getBytes(), new byte[500]);
        }
        return db;
    }

    @Test
    void badOptionsAreRefusedInOneLineBeforeTheDatabaseIsOpened() throws Exception {
        Path db = unflushedDatabase();
        Map<String, String> before = listing(db);
        for (String[] args : List.of(new String[] {"vlog-gc", "--ratio", "1.5", db.toString()},
                new String[] {"vlog-gc", "--ratio", "0", db.toString()},
                new String[] {"compact", "--from", "z", "--to", "a", db.toString()})) {
            ToolRun run = ToolRun.of(args);
            assertEquals(2, run.code(), String.join(" ", args) + ": " + run.err());
            assertEquals("", run.out(), String.join(" ", args));
            assertEquals(1, run.err().lines().count(), String.join(" ", args) + ": " + run.err());
            assertTrue(run.err().startsWith("error: "), run.err());
            assertEquals(before, listing(db), String.join(" ", args) + " left the directory as it was");
        }
    }

    @Test
    void compactCountsTrivialMovesApartFromCompactions() throws Exception {
        Path db = tempDir.resolve("moves");
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            opened.set("a", "1");
            opened.flush();
        }
        ToolRun json = ToolRun.of("compact", db.toString(), "--json");
        assertEquals(0, json.code(), json.err());
        Map<String, Object> report = JsonReader.object(json.out().strip());
        assertEquals(0L, report.get("compactions"), "one table with nothing below it is moved, not compacted: " + report);
        assertTrue(report.get("trivialMoves") instanceof Long moves && moves > 0, report.toString());
        assertEquals(0L, report.get("readBytes"));

        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            opened.set("b", "2");
            opened.flush();
        }
        ToolRun text = ToolRun.of("compact", db.toString());
        assertEquals(0, text.code(), text.err());
        String summary = text.err().strip();
        assertTrue(summary.matches("(?s).*\\] 100% no compactions, \\d+ trivial moves?"), summary);
        assertFalse(summary.contains("read 0 B and wrote 0 B"), summary);
    }

    /** Level 0 after {@code compact DIR args} of a database whose one table holds {@code keys}: its table count. */
    private int level0TablesAfterCompact(String name, List<byte[]> keys, String... args) {
        Path db = tempDir.resolve(name);
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            for (byte[] key : keys) {
                opened.set(key, "v".getBytes());
            }
            opened.flush();
        }
        List<String> full = new ArrayList<>(List.of("compact", db.toString(), "--json"));
        full.addAll(List.of(args));
        ToolRun run = ToolRun.of(full.toArray(new String[0]));
        assertEquals(0, run.code(), run.err());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> after = (List<Map<String, Object>>) JsonReader.object(run.out().strip()).get("after");
        return after.stream().filter(l -> ((Number) l.get("level")).intValue() == 0)
                .mapToInt(l -> ((Number) l.get("tables")).intValue()).sum();
    }

    @Test
    void compactRangeExcludesTheToKeyUnlessInclusive() {
        List<byte[]> startingAtM = List.of("m".getBytes(), "n".getBytes());
        assertEquals(1, level0TablesAfterCompact("to-m", startingAtM, "--from", "a", "--to", "m"),
                "a table starting at the --to key is outside [from, to)");
        assertEquals(0, level0TablesAfterCompact("to-m-inclusive", startingAtM, "--from", "a", "--to", "m",
                "--inclusive"));
        byte[] justBelowM = {'l', (byte) 0xff, (byte) 0xff, (byte) 0xff};
        assertEquals(0, level0TablesAfterCompact("below-m", List.of(justBelowM), "--to", "m"),
                "a key just below the --to key is inside [from, to)");
        assertEquals(0, level0TablesAfterCompact("m-zero", List.of("m".getBytes()), "--to", "0x6d00"),
                "m is the largest key below m followed by a zero byte");
        assertEquals(1, level0TablesAfterCompact("m-zero-at-m", List.of("m\0".getBytes()), "--to", "0x6d00"));
    }

    @Test
    void largestKeyBelowIsTheLastStorableKeyBeforeTheExcludedEnd() {
        byte[] belowM = new byte[Options.MAX_KEY_SIZE];
        Arrays.fill(belowM, (byte) 0xff);
        belowM[0] = 'l';
        assertArrayEquals(belowM, KeyRange.largestKeyBelow("m".getBytes()));
        assertArrayEquals("m".getBytes(), KeyRange.largestKeyBelow(new byte[] {'m', 0}));
        byte[] tooLong = new byte[Options.MAX_KEY_SIZE + 1];
        Arrays.fill(tooLong, (byte) 'k');
        assertArrayEquals(Arrays.copyOf(tooLong, Options.MAX_KEY_SIZE), KeyRange.largestKeyBelow(tooLong));
    }

    @Test
    void compactRefusesAnEmptyRangeAndInclusiveWithoutToAndItsHelpStatesTheRule() {
        Path db = tempDir.resolve("db");
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            opened.set("a", "1");
        }
        for (String[] args : new String[][] {{"--from", "b", "--to", "b"}, {"--from", "c", "--to", "b"},
            {"--from", "a", "--inclusive"}}) {
            List<String> full = new ArrayList<>(List.of("compact", db.toString()));
            full.addAll(List.of(args));
            ToolRun run = ToolRun.of(full.toArray(new String[0]));
            assertEquals(2, run.code(), String.join(" ", args));
            assertTrue(run.err().startsWith("error: ") && run.out().isEmpty(), run.err() + run.out());
        }
        ToolRun help = ToolRun.of("compact", "--help");
        assertTrue(help.out().contains("[from, to)") && help.out().contains("--inclusive"), help.out());
    }
}
