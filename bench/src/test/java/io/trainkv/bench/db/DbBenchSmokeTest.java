package io.trainkv.bench.db;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs every workload on every engine on a small key count and checks that each engine read back
 * what was written, so the harness cannot silently measure an engine doing the wrong thing. Also
 * runs the real runner (child JVMs, JSON lines, CSV) once on two engines. RocksDB's native library
 * must load here: if it cannot, these tests fail instead of skipping.
 */
class DbBenchSmokeTest {

    private static final int NUM = 2000;

    @TempDir
    Path tempDir;

    @Test
    void everyWorkloadOnEveryEngineReadsWhatWasWritten() throws Exception {
        assertDoesNotThrow(EngineKind.ROCKSDB::load, "RocksDB's native library must load on this machine");
        BenchConfig config = new BenchConfig(List.of(Workload.values()), List.of(EngineKind.values()), NUM, NUM, 16, 100, 2,
                false, 7, tempDir, 8 << 20, "1g", 0);
        Map<EngineKind, Long> liveAfterDeletes = new HashMap<>();
        for (EngineKind engine : EngineKind.values()) {
            for (Workload workload : Workload.values()) {
                if (!workload.supportedBy(engine)) {
                    continue;
                }
                Result r = EngineRun.run(config, workload, engine);
                String where = workload.id() + " on " + engine.id();
                assertTrue(r.ran(), where);
                assertEquals(workload == Workload.OPEN ? 1 : NUM, r.ops(), where + ": operations");
                if (workload == Workload.DELETERANDOM) {
                    liveAfterDeletes.put(engine, r.liveKeys());
                    assertEquals(-1, r.found(), where);
                    continue;
                }
                assertEquals(NUM, r.liveKeys(), where + ": keys after the workload");
                long expectedFound = workload == Workload.READMISSING ? 0 : workload.reads() ? NUM : -1;
                if (workload == Workload.YCSBA) { // half reads (all present keys), half updates
                    long updates = r.userBytesWritten() / config.entryBytes();
                    assertTrue(updates > NUM / 3 && updates < 2 * NUM / 3, where + ": updates " + updates);
                    expectedFound = NUM - updates;
                }
                assertEquals(expectedFound, r.found(), where + ": found");
                if (workload == Workload.READWHILEWRITING || workload == Workload.YCSBA) {
                    assertTrue(r.userBytesWritten() > 0, where + ": the writer wrote");
                } else if (workload.writes()) {
                    assertEquals((long) NUM * config.entryBytes(), r.userBytesWritten(), where + ": bytes written");
                }
            }
        }
        long live = liveAfterDeletes.get(EngineKind.TRAINKV);
        assertTrue(live > 0 && live < NUM, "deleterandom deletes some keys but not all: " + live);
        assertAll(liveAfterDeletes.entrySet().stream().map(e -> () ->
                assertEquals(live, e.getValue(), e.getKey().id() + " keeps the same keys after deleterandom as trainkv")));
    }

    @Test
    void pureJavaLevelDbIsTheOnlyEngineWithoutReverseScans() {
        for (EngineKind engine : EngineKind.values()) {
            assertEquals(engine != EngineKind.LEVELDB, Workload.READREVERSE.supportedBy(engine), engine.id());
        }
    }

    @Test
    void runnerComparesEnginesInChildProcesses() throws Exception {
        Path csv = tempDir.resolve("results.csv");
        int exit = DbBench.run("--num", "500", "--benchmarks", "fillrandom,readrandom,readreverse",
                "--engine", "trainkv,leveldb", "--db", tempDir.resolve("db").toString(), "--cache-size", "8388608",
                "--heap", "256m", "--csv", csv.toString());
        assertEquals(0, exit);
        List<String> lines = Files.readAllLines(csv);
        List<String> header = Arrays.asList(lines.get(0).split(","));
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",", -1);
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < header.size(); i++) {
                row.put(header.get(i), cells[i]);
            }
            rows.add(row);
        }
        assertEquals(6, rows.size());
        for (Map<String, String> row : rows) {
            String where = row.get("workload") + " on " + row.get("engine");
            if (row.get("workload").equals("readreverse") && row.get("engine").equals("leveldb")) {
                assertFalse(row.get("note").isEmpty(), where);
                continue;
            }
            assertEquals("", row.get("note"), where);
            assertEquals("500", row.get("liveKeys"), where);
            assertTrue(Double.parseDouble(row.get("opsPerSecond")) > 0, where);
            if (!row.get("workload").equals("fillrandom")) {
                assertEquals("500", row.get("found"), where);
            }
        }
    }

    @Test
    void aFailedWorkloadExitsWithOneAndABadValueWithTwo() throws Exception {
        int failed = DbBench.run("--num", "100", "--benchmarks", "readrandom", "--engine", "trainkv",
                "--db", tempDir.resolve("empty").toString(), "--cache-size", "8388608", "--heap", "256m");
        assertEquals(1, failed, "readrandom without a fill before it fails, and the exit code says so");
        Path file = Files.writeString(tempDir.resolve("a-file"), "x");
        assertEquals(2, DbBench.run("--num", "100", "--benchmarks", "fillrandom", "--db", file.toString()));
        assertEquals(2, DbBench.run("--num", "0", "--benchmarks", "fillrandom", "--db", tempDir.toString()));
        assertEquals(2, DbBench.run("--sizes", "0,100", "--benchmarks", "fillrandom", "--db", tempDir.toString()));
        assertEquals(2, DbBench.run("--threads", "9999999", "--benchmarks", "fillrandom", "--engine", "trainkv",
                "--db", tempDir.resolve("many").toString()), "refused before any thread starts");
        assertFalse(Files.exists(tempDir.resolve("many")), "nothing was run");
    }

    @Test
    void aSecondRunOnADbInUseStopsBeforeTouchingIt() throws Exception {
        Path db = tempDir.resolve("shared");
        try (BenchDirectoryLock held = BenchDirectoryLock.take(db)) {
            assertEquals(2, DbBench.run("--num", "100", "--benchmarks", "fillrandom", "--engine", "trainkv",
                    "--db", db.toString()));
            assertFalse(Files.exists(db.resolve("trainkv")), "the run stopped before creating its database");
        }
        assertEquals(0, DbBench.run("--num", "100", "--benchmarks", "fillrandom", "--engine", "trainkv",
                "--db", db.toString(), "--cache-size", "8388608", "--heap", "256m"), "the lock is free again");
    }

    @Test
    void sizesRunEachKeyCountAndWriteOneFilePerCount() throws Exception {
        Path csv = tempDir.resolve("growth.csv");
        int exit = DbBench.run("--sizes", "300,600", "--benchmarks", "fillrandom", "--engine", "trainkv,rocksdb-tuned",
                "--db", tempDir.resolve("db").toString(), "--cache-size", "8388608", "--heap", "256m",
                "--csv", csv.toString());
        assertEquals(0, exit);
        assertFalse(Files.exists(csv), "with --sizes the CSV is written once per key count");
        for (String size : List.of("300", "600")) {
            List<String> lines = Files.readAllLines(tempDir.resolve("growth-" + size + ".csv"));
            List<String> header = Arrays.asList(lines.get(0).split(","));
            assertEquals(3, lines.size(), "a header and one row per engine");
            for (String line : lines.subList(1, lines.size())) {
                String[] cells = line.split(",", -1);
                assertEquals("", cells[header.indexOf("note")], line);
                assertEquals(size, cells[header.indexOf("liveKeys")], line);
            }
        }
    }

    /** Every line of --help formats: a bare '%' in it made picocli print a WARN before the help. */
    @Test
    void helpFormatsEveryLineWithoutWarnings() {
        PrintStream stderr = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        String usage;
        System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        try {
            usage = new picocli.CommandLine(new DbBench()).getUsageMessage();
        } finally {
            System.setErr(stderr);
        }
        assertEquals("", warnings.toString(StandardCharsets.UTF_8));
        assertTrue(usage.contains("50% reads and 50% updates"), usage);
        assertFalse(usage.contains("%n"), usage);
    }

    /** A usage error is one line naming the help, in the command line's words, with exit code 2. */
    @Test
    void usageErrorsAreOneLineInTheCommandLinesWords() {
        Path db = tempDir.resolve("unused");
        assertUsageError(List.of("unknown engine 'foo'", "rocksdb-tuned"), "--engine", "foo", "--db", db.toString());
        assertUsageError(List.of("unknown benchmark 'fillx'", "fillrandom"), "--benchmarks", "fillx", "--db", db.toString());
        assertUsageError(List.of("--heap must be a JVM heap size", "'zz'"), "--heap", "zz", "--db", db.toString());
        assertUsageError(List.of("--num", "-5"), "--num", "-5", "--db", db.toString());
        assertFalse(Files.exists(db), "nothing was run");
    }

    private static void assertUsageError(List<String> expected, String... args) {
        PrintStream stderr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            exit = DbBench.run(args);
        } finally {
            System.setErr(stderr);
        }
        String output = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, exit, output);
        assertEquals(1, output.lines().count(), output);
        assertTrue(output.startsWith("error: ") && output.strip().endsWith("(see scripts/bench --help)"), output);
        for (String part : expected) {
            assertTrue(output.contains(part), part + " in " + output);
        }
        assertFalse(output.contains("java.") || output.contains("FILLRANDOM") || output.contains("EngineKind"), output);
    }

    @Test
    void engineNamesAreTheCommandLineNames() {
        for (EngineKind engine : EngineKind.values()) {
            assertEquals(engine, EngineKind.fromId(engine.id().toUpperCase(java.util.Locale.ROOT)));
        }
        assertEquals(EngineKind.ROCKSDB_TUNED, EngineKind.fromId("rocksdb-tuned"));
    }
}
