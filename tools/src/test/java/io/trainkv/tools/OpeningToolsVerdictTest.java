package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tools that open the database ({@code dump}, {@code compact}, {@code vlog-gc}) give the
 * verdicts of the inspection tools: damage they meet is exit 1 (not 2, which is for usage and I/O
 * errors and directories they may not use), and so is a directory that lost {@code CURRENT}, as
 * {@code manifest-verify} and {@code check} say. Each error is one {@code error:} line.
 */
class OpeningToolsVerdictTest {

    @TempDir
    Path work;

    /** A database of 200 keys whose 1,000-byte values are in the value log, flushed to a table. */
    private Path build(String name) throws Exception {
        Path dir = work.resolve(name);
        try (TrainKV db = TrainKV.open(Options.at(dir).valueThreshold(100))) {
            for (int i = 0; i < 200; i++) {
                byte[] value = new byte[1000];
                value[0] = (byte) i;
                db.set(String.format("key-%03d", i).getBytes(StandardCharsets.UTF_8), value);
            }
            db.flush();
        }
        return dir;
    }

    @Test
    void dumpOfDamagedDataIsExitOne() throws Exception {
        Path dir = build("db");
        Path log = LogVerdictTest.only(dir, ".vlog");
        LogVerdictTest.flip(log, Files.size(log) / 2);

        ToolRun dump = ToolRun.of("dump", dir.toString(), "--encoding", "hex");
        assertEquals(1, dump.code(), dump.err());
        assertOneErrorLine(dump);
        assertTrue(dump.err().contains(log.getFileName().toString()), dump.err());
    }

    @Test
    void vlogGcRefusingADamagedFileIsExitOne() throws Exception {
        Path dir = build("db");
        Path log = LogVerdictTest.only(dir, ".vlog");
        LogVerdictTest.flip(log, Files.size(log) / 2);
        long id = Long.parseLong(log.getFileName().toString().replace(".vlog", ""));

        ToolRun gc = ToolRun.of("vlog-gc", dir.toString(), "--files", Long.toString(id));
        assertEquals(1, gc.code(), gc.out() + gc.err());
        assertOneErrorLine(gc);
        assertTrue(gc.err().contains(log.getFileName().toString()), gc.err());
        assertTrue(Files.exists(log), "the damaged file is left in place");
    }

    /**
     * A directory with a database's files but no {@code CURRENT} is a damaged database: exit 1 for
     * the tools that would open it, as for manifest-verify, and nothing is created in it.
     */
    @Test
    void aLostCurrentIsDamageToEveryToolThatOpens() throws Exception {
        Path dir = build("db");
        Files.delete(dir.resolve("CURRENT"));
        List<String> before = names(dir);

        ToolRun manifest = ToolRun.of("manifest-verify", dir.toString());
        assertEquals(1, manifest.code(), manifest.out());
        for (String[] args : new String[][] {{"compact", dir.toString()}, {"vlog-gc", dir.toString()},
            {"dump", dir.toString()}}) {
            ToolRun run = ToolRun.of(args);
            assertEquals(1, run.code(), String.join(" ", args) + ": " + run.err());
            assertOneErrorLine(run);
            assertTrue(run.err().contains("no CURRENT file: the database is damaged"), run.err());
            assertEquals(before, names(dir), String.join(" ", args) + " changed the directory");
        }
        for (String tool : new String[] {"compact", "vlog-gc"}) {
            ToolRun json = ToolRun.of(tool, "--json", dir.toString());
            assertEquals(1, json.code(), json.out());
            assertTrue(json.out().startsWith("{\"target\":\"" + dir + "\",\"ok\":false,\"exitCode\":1,"
                    + "\"severity\":\"damaged\",\"error\":"), tool + ": " + json.out());
        }
    }

    /**
     * Standard error is one {@code error:} line and nothing else: no progress summary of the failed
     * job, no stack trace.
     */
    static void assertOneErrorLine(ToolRun run) {
        List<String> lines = run.err().lines().toList();
        assertEquals(1, lines.size(), run.err());
        assertTrue(lines.get(0).startsWith("error: "), run.err());
        assertFalse(run.err().contains("\tat ") || run.err().contains("Exception"), run.err());
    }

    static List<String> names(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
