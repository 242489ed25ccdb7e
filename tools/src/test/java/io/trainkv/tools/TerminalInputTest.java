package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.jline.terminal.spi.SystemStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code load} decides from standard input alone whether a person is typing: run under a real
 * pseudo-terminal (util-linux {@code script}) with standard output redirected to a file, as in
 * {@code trainkv load db > log} typed at a terminal, it still gives its hint.
 */
class TerminalInputTest {

    @TempDir
    Path tempDir;

    @Test
    void aPipeIsNotATerminal() {
        assertFalse(Terminals.isTerminal(SystemStream.Input), "surefire gives this JVM a pipe as standard input");
    }

    @Test
    void loadTypedAtATerminalWithItsOutputRedirectedStillGivesTheHint() throws Exception {
        assumeTrue(new File("/usr/bin/script").canExecute(), "needs util-linux script for a pseudo-terminal");
        Path db = tempDir.resolve("db");
        Path log = tempDir.resolve("log.txt");
        Path screen = tempDir.resolve("screen.txt");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String child = "'" + java + "' -cp '" + System.getProperty("java.class.path") + "' "
                + TrainKvCommand.class.getName() + " load '" + db + "' > '" + log + "'";
        Process script = new ProcessBuilder("/usr/bin/script", "-qec", child, "/dev/null")
                .redirectOutput(screen.toFile()).redirectError(screen.toFile()).start();
        script.getOutputStream().write("k1\tv1\n\u0004".getBytes(StandardCharsets.UTF_8));
        script.getOutputStream().close();
        assertTrue(script.waitFor(60, TimeUnit.SECONDS), "load did not end at Ctrl-D");
        String typed = Files.readString(screen);
        assertEquals(0, script.exitValue(), typed);
        assertTrue(typed.contains("reading TSV from the terminal; end with Ctrl-D"), typed);
        assertTrue(Files.readString(log).contains("loaded 1 keys from standard input"), Files.readString(log));
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            assertEquals("v1", opened.get("k1"));
        }
    }
}
