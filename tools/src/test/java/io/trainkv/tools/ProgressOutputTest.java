package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Progress without a terminal (as in these tests): no {@code \r} bars, one summary line at the end
 * of a job that succeeded and none for one that failed or stopped.
 */
class ProgressOutputTest {

    @TempDir
    Path tempDir;

    @Test
    void loadAndCompactOffATerminalPrintOneSummaryLineAndNoCarriageReturn() throws Exception {
        Path db = tempDir.resolve("db");
        Path input = tempDir.resolve("in.tsv");
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            rows.append("key").append(i).append('\t').append("value").append(i).append('\n');
        }
        Files.writeString(input, rows);

        ToolRun load = ToolRun.of("load", db.toString(), input.toString());
        assertEquals(0, load.code(), load.err());
        assertFalse(load.err().contains("\r"), load.err());
        assertEquals(1, load.err().lines().count(), load.err());
        assertTrue(load.err().strip().endsWith(" 2,000 keys"), load.err());

        ToolRun compact = ToolRun.of("compact", db.toString());
        assertEquals(0, compact.code(), compact.err());
        assertFalse(compact.err().contains("\r"), compact.err());
        assertEquals(1, compact.err().lines().filter(l -> l.contains("compactions,")).count(), compact.err());
        assertEquals(1, compact.err().lines().count(), compact.err());
    }

    @Test
    void aLoadStoppedByABadLinePrintsTheErrorOnItsOwnLineWithoutCarriageReturn() throws Exception {
        Path db = tempDir.resolve("db");
        Path input = tempDir.resolve("in.tsv");
        Files.writeString(input, "k1\t1\nno tab\n");
        ToolRun load = ToolRun.of("load", db.toString(), input.toString());
        assertEquals(1, load.code());
        assertFalse(load.err().contains("\r"), load.err());
        assertTrue(load.err().lines().anyMatch(l -> l.contains("in.tsv:2: error: ")), load.err());
        assertFalse(load.err().contains(" keys\n"), "no progress summary for a stopped load: " + load.err());
    }

    @Test
    void aJobClosedWithoutSucceedingPrintsNoSummaryAndClearsItsBar() {
        ByteArrayOutputStream offTerminal = new ByteArrayOutputStream();
        Progress.start(new PrintStream(offTerminal, true, StandardCharsets.UTF_8), false, () -> "[   ] 0% 0 keys").close();
        assertEquals("", offTerminal.toString(StandardCharsets.UTF_8));

        ByteArrayOutputStream onTerminal = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(onTerminal, true, StandardCharsets.UTF_8);
        Progress progress = Progress.start(err, true, () -> "[###] 50%");
        progress.println("note");
        progress.close();
        String text = onTerminal.toString(StandardCharsets.UTF_8);
        String lastLine = text.substring(text.lastIndexOf('\n') + 1);
        assertTrue(lastLine.substring(lastLine.lastIndexOf('\r') + 1).isBlank(), "a bar is left drawn: " + text);
        assertFalse(text.substring(text.indexOf("note\n") + 5).contains("\n"), "a summary line follows: " + text);
    }

    @Test
    void onATerminalALinePrintedDuringTheJobClearsTheDrawnBarFirst() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Progress progress = Progress.start(err, true, () -> "[###] 50%");
        progress.println("error: bad line");
        progress.succeeded();
        progress.close();
        String text = bytes.toString(StandardCharsets.UTF_8);
        for (String line : text.split("\n")) {
            String visible = line.substring(line.lastIndexOf('\r') + 1);
            assertTrue(visible.equals("error: bad line") || visible.equals("[###] 50%"), text);
        }
        assertTrue(text.contains("error: bad line\n"), text);
        assertTrue(text.endsWith("[###] 50%\n"), text);
    }
}
