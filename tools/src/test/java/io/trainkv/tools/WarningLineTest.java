package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine's log records reach a tool's user as one {@code warning:} line, not java.util.logging's two. */
class WarningLineTest {

    @TempDir
    Path tempDir;

    @Test
    void aTornWalTailSeenByDumpIsOneWarningLine() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("a", "1");
            db.set("b", "2");
        }
        Path newest;
        try (Stream<Path> files = Files.list(dir)) {
            newest = files.filter(p -> p.toString().endsWith(".wal")).sorted().reduce((x, y) -> y).orElseThrow();
        }
        Files.write(newest, new byte[] {0x13, 0x37, 0x00, 0x7f, 0x11}, StandardOpenOption.APPEND);

        ToolRun dump = ToolRun.of("dump", dir.toString());
        assertEquals(0, dump.code(), dump.err());
        assertEquals("a\t1\nb\t2\n", dump.out());
        List<String> warnings = dump.err().lines().filter(l -> l.startsWith("warning: ")).toList();
        assertEquals(1, warnings.size(), dump.err());
        assertTrue(warnings.get(0).startsWith("warning: write-ahead log ") && warnings.get(0).contains("torn tail"),
                dump.err());
        assertFalse(dump.err().contains("WARNING:"), dump.err());
        assertFalse(dump.err().lines().anyMatch(l -> l.contains("io.trainkv.")), dump.err());
    }
}
