package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.TreeSet;
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

    @Test
    void anUnknownCommandIsOneLineWithExitTwo() {
        ToolRun run = ToolRun.of("nope");
        assertEquals(2, run.code());
        assertEquals("", run.out());
        assertEquals("error: unknown command 'nope' (see trainkv --help)\n", run.err().replace("\r\n", "\n"));
        ToolRun typo = ToolRun.of("compcat", "db");
        assertEquals(2, typo.code());
        assertEquals(1, typo.err().lines().count(), typo.err());
        assertTrue(typo.err().contains("unknown command 'compcat' (did you mean compact?)"), typo.err());
        ToolRun badOption = ToolRun.of("compact", "--no-such-option", "db");
        assertEquals(2, badOption.code());
        assertEquals(1, badOption.err().lines().count(), badOption.err());
        assertTrue(badOption.err().contains("(see trainkv compact --help)"), badOption.err());
    }

    @Test
    void helpListsEverySubcommandIncludingBench() {
        ToolRun run = ToolRun.of("--help");
        assertEquals(0, run.code(), run.err());
        List<String> names = List.of("shell", "sstdump", "wal-verify", "wal-dump", "manifest-verify", "manifest-dump",
                "vlog-verify", "vlog-dump", "compact", "vlog-gc", "load", "dump", "check", "backup", "restore", "backup-list",
                "backup-verify", "bench", "server");
        assertEquals(new TreeSet<>(names), new TreeSet<>(new picocli.CommandLine(new TrainKvCommand()).getSubcommands().keySet()),
                "the subcommands this test checks are all there are");
        for (String name : names) {
            assertTrue(run.out().lines().anyMatch(line -> line.strip().startsWith(name + " ")), name + " in\n" + run.out());
        }
    }

    /**
     * Every command's and subcommand's help formats without picocli warnings: a bare '%' in a
     * description or footer is a format error, which picocli reports as a WARN before the help.
     */
    @Test
    void everyHelpFormatsWithoutWarnings() {
        PrintStream stderr = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        int helps = 0;
        try {
            Deque<picocli.CommandLine> commands = new ArrayDeque<>();
            commands.add(TrainKvCommand.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter())));
            while (!commands.isEmpty()) {
                picocli.CommandLine command = commands.poll();
                String usage = command.getUsageMessage();
                assertTrue(!usage.contains("%n"), command.getCommandName() + ":\n" + usage);
                helps++;
                commands.addAll(command.getSubcommands().values());
            }
        } finally {
            System.setErr(stderr);
        }
        assertEquals("", warnings.toString(StandardCharsets.UTF_8));
        assertTrue(helps > 19, "the top command and every subcommand: " + helps);
    }
}
