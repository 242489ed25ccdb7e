package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The inspection tools on both encodings: the engine module's fixture of a database the build
 * before the compact encodings wrote and closed (a format-1 table, a WAL of legacy batches; see
 * the engine's LegacyFormatTest), then the same database after this build compacted it and wrote
 * to it (format-2 tables, compact batches).
 */
class LegacyFormatToolsTest {

    /** The fixture, in the engine module's test resources (tests run in the module's directory). */
    private static final Path FIXTURE = Path.of("..", "engine", "src", "test", "resources", "io", "trainkv",
            "legacy-format-1");

    @TempDir
    Path tempDir;

    @Test
    void theToolsReadTheOldEncodingsAndTheNewOnes() throws Exception {
        assertTrue(Files.isDirectory(FIXTURE), "fixture missing: " + FIXTURE.toAbsolutePath());
        Path dir = tempDir.resolve("db");
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(FIXTURE)) {
            for (Path file : files.toList()) {
                Files.copy(file, dir.resolve(file.getFileName()));
            }
        }
        String table = dir.resolve("000006.sst").toString();

        ToolRun raw = ToolRun.of("sstdump", "--command", "raw", table);
        assertEquals(0, raw.code(), raw.out() + raw.err());
        assertTrue(raw.out().contains("format version     1") && raw.out().contains("layout ok"), raw.out());
        ToolRun scan = ToolRun.of("sstdump", "--command", "scan", table);
        assertEquals(0, scan.code(), scan.err());
        assertTrue(scan.out().contains("\"t-both\" @4 = \"meta and expiry\" (expires 4102444800000)"), scan.out());
        assertTrue(scan.out().contains("\"t-dead\" @7 = (deleted)"), scan.out());
        assertTrue(scan.out().lines().anyMatch(line -> line.contains("\"t-big-moved\"") && line.contains("(moved by value-log GC)")),
                scan.out());

        ToolRun walDump = ToolRun.of("wal-dump", dir.toString());
        assertEquals(0, walDump.code(), walDump.err());
        assertTrue(walDump.out().contains("\"w-both\" (15 bytes) (expires 4102444800000)"), walDump.out());
        assertTrue(walDump.out().lines().anyMatch(line -> line.contains("\"w-big-moved\" -> ")
                && line.contains("(moved by value-log GC)")), walDump.out());
        assertTrue(walDump.out().contains("value-log durable mark"), walDump.out());
        ToolRun walVerify = ToolRun.of("wal-verify", dir.toString());
        assertEquals(0, walVerify.code(), walVerify.out() + walVerify.err());
        assertTrue(walVerify.out().contains("clean end"), walVerify.out());
        ToolRun check = ToolRun.of("check", dir.toString());
        assertEquals(0, check.code(), check.out() + check.err());

        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.flatten();
            db.set("after", "written by this build");
        }
        Path newTable;
        try (Stream<Path> files = Files.list(dir)) {
            newTable = files.filter(f -> f.toString().endsWith(".sst")).findFirst().orElseThrow();
        }
        raw = ToolRun.of("sstdump", "--command", "raw", newTable.toString());
        assertEquals(0, raw.code(), raw.out() + raw.err());
        assertTrue(raw.out().contains("format version     2") && raw.out().contains("layout ok"), raw.out());
        scan = ToolRun.of("sstdump", "--command", "scan", newTable.toString());
        assertTrue(scan.out().contains("\"t-both\" @4 = \"meta and expiry\" (expires 4102444800000)"), scan.out());
        assertTrue(scan.out().lines().anyMatch(line -> line.contains("\"w-big-moved\"") && line.contains("(moved by value-log GC)")),
                scan.out());
        walDump = ToolRun.of("wal-dump", dir.toString());
        assertEquals(0, walDump.code(), walDump.err());
        assertTrue(walDump.out().contains("\"after\" (21 bytes)"), walDump.out());
        check = ToolRun.of("check", dir.toString());
        assertEquals(0, check.code(), check.out() + check.err());
    }
}
