package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainkv command dispatches to its subcommands with the documented exit codes. */
class TrainKvCommandTest {

    @TempDir
    Path tempDir;

    @Test
    void theShellSubcommandRunsAScriptAndReportsFailuresByExitCode() throws Exception {
        Path script = tempDir.resolve("load.tkv");
        Files.writeString(script, "set a 1\nset b 2\n");
        Path db = tempDir.resolve("db");
        assertEquals(0, TrainKvCommand.execute("shell", "--db", db.toString(), "--create", "--file", script.toString()));
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            assertEquals("2", opened.get("b"));
        }
        Files.writeString(script, "set c 3\nnonsense\n");
        assertEquals(1, TrainKvCommand.execute("shell", "--db", db.toString(), "--file", script.toString()));
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertEquals(2, TrainKvCommand.execute());
        assertEquals(2, TrainKvCommand.execute("shell", "--no-such-option"));
        assertEquals(0, TrainKvCommand.execute("--help"));
    }
}
