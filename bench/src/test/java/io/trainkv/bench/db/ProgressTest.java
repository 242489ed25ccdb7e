package io.trainkv.bench.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The workload progress line is drawn only on a terminal: a child JVM's standard error is inherited,
 * so a line drawn off a terminal would bypass every redirect (it reached the output of
 * {@code mvn -B -q verify}).
 */
class ProgressTest {

    @Test
    void offATerminalNothingIsDrawnEvenAfterTheInterval() throws Exception {
        PrintStream oldErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            try (Progress progress = new Progress("readrandom on trainkv", 10)) {
                progress.add();
                Thread.sleep(1500);   // longer than the one-second redraw interval
            }
        } finally {
            System.setErr(oldErr);
        }
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }
}
