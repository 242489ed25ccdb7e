package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * A directory that is not a TrainKV database (empty, or holding only unrelated files) is unusable
 * for every inspection tool: exit code 2 and one line naming the directory, in text and, for the
 * tools with {@code --json}, as one JSON object with an {@code error} field. A file given directly
 * is still inspected, and a directory holding a database's files without {@code CURRENT} is a
 * damaged database (exit 1), not an unrelated directory.
 */
class NotADatabaseTest {

    /** Every inspection tool, as the arguments before the directory; true if it takes --json. */
    private static final List<Object[]> TOOLS = List.of(
            new Object[] {new String[] {"sstdump"}, true},
            new Object[] {new String[] {"wal-verify"}, true},
            new Object[] {new String[] {"wal-dump"}, true},
            new Object[] {new String[] {"vlog-verify"}, true},
            new Object[] {new String[] {"vlog-dump"}, true},
            new Object[] {new String[] {"manifest-verify"}, true},
            new Object[] {new String[] {"manifest-dump"}, true},
            new Object[] {new String[] {"check"}, true},
            new Object[] {new String[] {"dump"}, false});

    @TempDir
    Path work;

    @Test
    void emptyDirectoryIsUnusableForEveryTool() throws IOException {
        Path empty = Files.createDirectory(work.resolve("empty"));
        assertEveryToolRefuses(empty);
    }

    @Test
    void directoryOfUnrelatedFilesIsUnusableForEveryTool() throws IOException {
        Path unrelated = Files.createDirectory(work.resolve("photos"));
        Files.writeString(unrelated.resolve("notes.txt"), "not a database\n");
        Files.write(unrelated.resolve("holiday.jpg"), new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 0, 1, 2});
        Files.writeString(unrelated.resolve("3.wal"), "too few digits for a WAL name");
        Files.createDirectory(unrelated.resolve("000007.sst"));
        assertEveryToolRefuses(unrelated);
        assertEquals(4, Files.list(unrelated).count(), "a refusing tool creates no file");
    }

    @Test
    void directoryWithDatabaseFilesButNoCurrentIsNotCalledUnrelated() throws IOException {
        Path lost = Files.createDirectory(work.resolve("lost"));
        Files.write(lost.resolve("000003.wal"), new byte[0]);
        ToolRun run = ToolRun.of("wal-verify", lost.toString());
        assertFalse(run.err().contains("not a TrainKV database"), run.err());
        assertEquals(0, run.code(), run.out() + run.err());
    }

    @Test
    void aDatabaseWhoseCurrentIsLostIsDamagedNotUnrelated() throws IOException {
        Path dir = work.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("key", "value");
            db.flush();
        }
        Files.delete(dir.resolve("CURRENT"));
        ToolRun verify = ToolRun.of("manifest-verify", dir.toString());
        assertEquals(1, verify.code(), verify.out() + verify.err());
        assertTrue(verify.out().lines().anyMatch(line -> line.contains("no CURRENT in " + dir)), verify.out());
        ToolRun json = ToolRun.of("manifest-verify", dir.toString(), "--json");
        assertEquals(1, json.code(), json.out() + json.err());
        assertEquals(false, JsonReader.object(json.out().strip()).get("ok"), json.out());
        ToolRun check = ToolRun.of("check", dir.toString());
        assertEquals(1, check.code(), check.out() + check.err());
        assertFalse(check.out().contains("not a TrainKV database"), check.out());
    }

    @Test
    void aFileGivenDirectlyIsInspected() throws IOException {
        Path file = work.resolve("000003.wal");
        Files.write(file, new byte[0]);
        ToolRun run = ToolRun.of("wal-verify", file.toString());
        assertEquals(0, run.code(), run.out() + run.err());
        assertFalse(run.err().contains("not a TrainKV database"), run.err());
    }

    private static void assertEveryToolRefuses(Path directory) {
        List<Executable> checks = new ArrayList<>();
        for (Object[] tool : TOOLS) {
            String[] prefix = (String[]) tool[0];
            checks.add(() -> assertTextRefusal(directory, run(prefix, directory, false), prefix[0]));
            if ((Boolean) tool[1]) {
                checks.add(() -> assertJsonRefusal(directory, run(prefix, directory, true), prefix[0]));
            }
        }
        assertAll(checks);
    }

    private static ToolRun run(String[] prefix, Path directory, boolean json) {
        String[] args = Arrays.copyOf(prefix, prefix.length + (json ? 2 : 1));
        args[prefix.length] = directory.toString();
        if (json) {
            args[prefix.length + 1] = "--json";
        }
        return ToolRun.of(args);
    }

    private static void assertTextRefusal(Path directory, ToolRun run, String tool) {
        String expected = "error: " + directory + " is not a TrainKV database (";
        assertEquals(2, run.code(), tool + ": " + run.out() + run.err());
        assertEquals("", run.out(), tool);
        List<String> lines = run.err().lines().toList();
        assertEquals(1, lines.size(), tool + ": " + run.err());
        assertTrue(lines.get(0).startsWith(expected), tool + ": " + lines.get(0));
    }

    private static void assertJsonRefusal(Path directory, ToolRun run, String tool) {
        assertEquals(2, run.code(), tool + " --json: " + run.out() + run.err());
        assertEquals("", run.err(), tool + " --json");
        List<String> lines = run.out().lines().toList();
        assertEquals(1, lines.size(), tool + " --json: " + run.out());
        Map<String, Object> object = JsonReader.object(lines.get(0));
        assertEquals(2L, object.get("exitCode"), tool + " --json: " + lines.get(0));
        assertEquals(false, object.get("ok"), tool + " --json: " + lines.get(0));
        assertTrue(String.valueOf(object.get("error")).startsWith(directory + " is not a TrainKV database ("),
                tool + " --json: " + lines.get(0));
    }
}
