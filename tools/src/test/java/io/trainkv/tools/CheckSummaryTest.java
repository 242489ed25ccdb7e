package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code check} summarises what it finds: a count per kind of problem and the first
 * {@value CheckCommand#EXAMPLES} lines of each, every line with {@code --all}; a missing table is
 * one "missing table" problem, not a broken pointer.
 */
class CheckSummaryTest {

    private static final Pattern BROKEN =
            Pattern.compile("(\\d+) value pointers in live tables and the WAL batches an open replays, (\\d+) broken");

    @TempDir
    Path work;

    /** 300 keys whose 1,000-byte values are in one value-log file, flushed to one table. */
    private Path build() throws Exception {
        Path dir = work.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir).valueThreshold(100))) {
            for (int i = 0; i < 300; i++) {
                db.set(String.format("key-%03d", i).getBytes(StandardCharsets.UTF_8), new byte[1000]);
            }
            db.flush();
        }
        return dir;
    }

    /** One value-log file cut to 10,000 bytes breaks about 290 pointers: check shows five and counts them all. */
    @Test
    void aTruncatedValueLogIsCountedNotListedPointerByPointer() throws Exception {
        Path dir = build();
        LogVerdictTest.truncate(LogVerdictTest.only(dir, ".vlog"), 10_000);

        ToolRun check = ToolRun.of("check", dir.toString());
        assertEquals(1, check.code(), check.out());
        Matcher counts = BROKEN.matcher(check.out());
        assertTrue(counts.find(), check.out());
        int broken = Integer.parseInt(counts.group(2));
        assertTrue(broken > 250, check.out());
        assertEquals(CheckCommand.EXAMPLES, check.out().lines().filter(line -> line.startsWith("broken pointer")).count(),
                check.out());
        assertTrue(check.out().contains("... and " + (broken - CheckCommand.EXAMPLES) + " more broken pointer line(s): "
                + broken + " in all (check --all lists every one)"), check.out());
        assertTrue(check.out().contains("check: problems found: " + broken + " broken pointer(s)"), check.out());
        assertTrue(check.out().lines().count() < 40, check.out().lines().count() + " lines:\n" + check.out());

        ToolRun all = ToolRun.of("check", "--all", dir.toString());
        assertEquals(broken, all.out().lines().filter(line -> line.startsWith("broken pointer")).count());
        ToolRun json = ToolRun.of("check", "--json", dir.toString());
        assertTrue(json.out().contains("\"problemCounts\":{\"broken pointer\":" + broken + "}"), json.out());
        assertTrue(json.out().contains("\"ok\":false,\"exitCode\":1,\"severity\":\"damaged\""), json.out());
    }

    /** A deleted table is one missing table; its pointers are unknown, not broken. */
    @Test
    void aMissingTableIsOneMissingTableNotABrokenPointer() throws Exception {
        Path dir = build();
        Path table = LogVerdictTest.only(dir, ".sst");
        Files.delete(table);

        ToolRun check = ToolRun.of("check", dir.toString());
        assertEquals(1, check.code(), check.out());
        assertTrue(check.out().contains("missing table " + table.getFileName()), check.out());
        assertTrue(check.out().contains("0 value pointers in live tables and the WAL batches an open replays, 0 broken"),
                check.out());
        assertTrue(check.out().contains("check: problems found: 1 missing table"), check.out());
    }
}
