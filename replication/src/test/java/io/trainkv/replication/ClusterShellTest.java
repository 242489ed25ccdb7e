package io.trainkv.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.trainkv.shell.ShellCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code trainkv shell --cluster} runs the shell's commands against a cluster, found through the service loader. */
class ClusterShellTest {

    @TempDir
    Path dir;

    @Test
    void aScriptRunsAgainstTheCluster() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 3, TestCluster.settings(100_000))) {
            Path script = dir.resolve("script.txt");
            Files.write(script, List.of(
                    "set user:1 alice",
                    "set user:2 bob",
                    "set other x",
                    "begin",
                    "get user:1",
                    "set user:3 carol",
                    "commit",
                    "scan user:",
                    "count",
                    "del user:2",
                    "get user:2",
                    "scan a z --reverse --limit 1",
                    "stats"));
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = new CommandLine(new ShellCommand())
                    .setOut(new PrintWriter(out, true))
                    .setErr(new PrintWriter(err, true))
                    .execute("--cluster", cluster.peers, "--file", script.toString(), "--continue-on-error");
            assertEquals(String.join("\n", "\"alice\"", "\"user:1\" = \"alice\"", "\"user:2\" = \"bob\"",
                    "\"user:3\" = \"carol\"", "4", "(nil)", "\"user:3\" = \"carol\"",
                    "... more keys (use --limit N to see more)") + "\n", out.toString());
            assertEquals(script + ":13: error: stats acts on one machine's files and is not offered against a cluster"
                    + " (try help)\n", err.toString());
            assertEquals(1, code, "the refused stats fails the script");
        }
    }
}
