package io.trainkv.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.DumbTerminal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shell's commands, transactions, quoting, batch mode and the REPL on a dumb terminal. */
class ShellTest {

    @TempDir
    Path tempDir;

    private TrainKV db;
    private StringWriter out;
    private StringWriter err;
    private CommandInterpreter shell;

    @BeforeEach
    void open() {
        db = TrainKV.open(Options.at(tempDir.resolve("db")));
        out = new StringWriter();
        err = new StringWriter();
        shell = new CommandInterpreter(db, new PrintWriter(out, true), new PrintWriter(err, true), 1);
    }

    @AfterEach
    void close() {
        shell.close();
        db.close();
    }

    private String run(String... lines) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        for (String line : lines) {
            shell.execute(line, null);
        }
        return out.toString();
    }

    @Test
    void everyCommandDoesWhatItSays() {
        assertEquals("OK\nOK\nOK\n", run("set a 1", "set b 2", "set c 3"));
        assertEquals("\"2\"\n", run("get b"));
        assertEquals("OK\n(nil)\n", run("del b", "get b"));
        assertEquals("\"a\" = \"1\"\n\"c\" = \"3\"\n", run("scan"));
        assertEquals("\"c\"\n\"a\"\n", run("scan --reverse --keys-only"));
        assertEquals("\"a\" = \"1\"\n... more keys (use --limit N to see more)\n", run("scan --limit 1"));
        assertEquals("\"a\" = \"1\"\n", run("scan a c"));
        assertEquals("2\n", run("count"));
        assertEquals("1\n", run("count c"));
        assertTrue(run("stats").contains("level"));
        assertEquals("OK\n", run("compact"));
        assertTrue(run("gc 0.5").contains("files collected"));
        assertTrue(run("help").contains("scan [PREFIX | FROM TO]"));
        assertTrue(run("help set").contains("ttl=DURATION"));
        run("set t v ttl=1h");
        assertEquals("\"v\"\n", run("get t"));
    }

    @Test
    void statsCountTrivialMovesApartFromCompactions() {
        run("set a 1", "compact");
        String stats = run("stats");
        assertTrue(stats.contains("no compactions, ") && stats.contains(" trivial move"), stats);
        assertTrue(!stats.contains("read 0 B and wrote 0 B"), stats);
    }

    @Test
    void checkpointWritesTheCommittedStateIntoANewDirectory() {
        run("set a 1", "set b 2", "begin", "set c 3");
        Path target = tempDir.resolve("cp");
        String printed = run("checkpoint " + target);
        assertEquals("checkpoint of version 2 written to " + target + "\n", printed);
        run("commit");
        assertEquals("", run("checkpoint " + target));
        assertTrue(err.toString().contains("error: " + target + " is not empty"), err.toString());
        try (TrainKV copy = TrainKV.open(Options.at(target))) {
            assertEquals("1", copy.get("a"));
            assertEquals("2", copy.get("b"));
            assertEquals(null, copy.get("c"), "the transaction's pending write is not in the checkpoint");
        }
        assertTrue(run("help checkpoint").contains("checkpoint DIR"));
    }

    @Test
    void scanAndCountRangesExcludeToUnlessInclusiveAndHelpScanSaysSo() {
        run("set a 1", "set b 2", "set b0 3", "set c 4");
        assertEquals("\"a\"\n", run("scan a b --keys-only"));
        assertEquals("\"a\"\n\"b\"\n", run("scan a b --inclusive --keys-only"));
        assertEquals("\"c\"\n\"b0\"\n\"b\"\n", run("scan b c --reverse --inclusive --keys-only"));
        assertEquals("3\n", run("count a c"));
        assertEquals("4\n", run("count a c --inclusive"));
        assertEquals("", run("scan a --inclusive"));
        assertEquals("error: --inclusive needs FROM TO (it includes TO in the range)\n", err.toString());
        String help = run("help scan");
        assertTrue(help.contains("[FROM, TO)") && help.contains("--inclusive"), help);
        assertTrue(run("help count").contains("[FROM, TO)"));
    }

    @Test
    void setFileStoresAFilesBytes() throws Exception {
        Path file = tempDir.resolve("blob.bin");
        Files.write(file, new byte[] {0, 1, 2, (byte) 0xff});
        assertEquals("OK\n", run("set --file blob " + file));
        assertEquals("\"\\x00\\x01\\x02\\xff\"\n", run("get blob"));
        run("set --file other " + tempDir.resolve("missing"));
        assertTrue(err.toString().startsWith("error: cannot read"), err.toString());
    }

    @Test
    void badInputGetsOneLineErrorsAndTheShellStaysUsable() {
        run("frobnicate");
        assertEquals("error: unknown command 'frobnicate' (try help)\n", err.toString());
        run("get");
        assertEquals("error: usage: get KEY [--hex]\n", err.toString());
        run("set k \"unterminated");
        assertEquals("error: unterminated quote\n", err.toString());
        run("set k v ttl=soon");
        assertTrue(err.toString().startsWith("error: bad duration soon"), err.toString());
        run("commit");
        assertEquals("error: no transaction is open (begin first)\n", err.toString());
        assertEquals("OK\n", run("set k v"));
    }

    @Test
    void quotingEscapesAndHexRoundTrip() {
        run("set \"a key\\twith tab\" \"say \\\"hi\\\"\\n\"", "set 0x00ff 0x0102ff");
        assertEquals("\"say \\\"hi\\\"\\n\"\n", run("get \"a key\\twith tab\""));
        assertEquals("\"\\x01\\x02\\xff\"\n", run("get 0x00ff"));
        assertEquals("\"\\x01\\x02\\xff\"\n", run("get \"\\x00\\xff\""), "the printed form reads back");
        byte[] big = new byte[5_000];
        db.set("big".getBytes(), big);
        assertTrue(run("get big").endsWith("... (5000 bytes)\n"), "long values are shown cut, with their size");
    }

    @Test
    void transactionsCommitRollBackAndReportConflictsClearly() {
        run("set balance 10");
        assertEquals("BEGIN\nOK\n\"11\"\n", run("begin", "set balance 11", "get balance"));
        assertEquals("10", db.get("balance"), "not visible outside before commit");
        assertTrue(run("commit").startsWith("COMMIT (version "));
        assertEquals("11", db.get("balance"));
        run("begin", "set balance 99");
        assertEquals("ROLLBACK\n\"11\"\n", run("rollback", "get balance"));
        run("begin", "get balance", "set balance 12");
        db.set("balance", "500");
        run("commit");
        assertTrue(err.toString().startsWith("error: conflict:") && err.toString().contains("rolled back"), err.toString());
        assertEquals("\"500\"\n", run("get balance"), "the concurrent write won and the shell is usable");
        assertEquals("BEGIN (read-only)\n", run("begin --read-only"));
        run("set x y");
        assertTrue(err.toString().contains("read-only"), err.toString());
        run("rollback");
    }

    @Test
    void batchModeStopsAtTheFirstErrorWithItsLineNumberUnlessToldToContinue() throws Exception {
        String script = "# comment\nset a 1\nbogus\nset b 2\n";
        assertEquals(1, BatchRunner.run(shell, new BufferedReader(new StringReader(script)), "load.tkv", false));
        assertEquals("load.tkv:3: error: unknown command 'bogus' (try help)\n", err.toString());
        assertEquals(null, db.get("b"), "stopped at line 3");
        err.getBuffer().setLength(0);
        CommandInterpreter batched = new CommandInterpreter(db, new PrintWriter(out, true), new PrintWriter(err, true), 100);
        assertEquals(1, BatchRunner.run(batched, new BufferedReader(new StringReader(script)), "load.tkv", true));
        assertEquals("2", db.get("b"), "continued past line 3");
        assertEquals(0, BatchRunner.run(batched, new BufferedReader(new StringReader("set c 3\nget c\n")), "ok", false));
        assertEquals("3", db.get("c"));
    }

    @Test
    void theSampleScriptRuns() throws Exception {
        Path sample = Path.of("..", "scripts", "examples", "quickstart.tkv");
        try (BufferedReader in = Files.newBufferedReader(sample)) {
            assertEquals(0, BatchRunner.run(shell, in, sample.toString(), false), err.toString());
        }
        assertEquals("Grace Hopper", db.get("user:3"));
        assertEquals(null, db.get("user:2"));
        assertTrue(out.toString().contains("\"user:3\"\n\"user:1\"\n"), out.toString());
    }

    @Test
    void theReplRunsOnADumbTerminalAndShowsTheTransactionInItsPrompt() throws Exception {
        String input = "set greeting hello\nbegin\nset greeting bye\ncommit\nget greeting\nexit\n";
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        try (Terminal terminal = new DumbTerminal(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)),
                screen)) {
            Repl.run(db, terminal, tempDir.resolve("history"));
        }
        String shown = screen.toString(StandardCharsets.UTF_8);
        assertTrue(shown.contains("trainkv(txn)> "), shown);
        assertTrue(shown.contains("\"bye\""), shown);
        assertEquals("bye", db.get("greeting"));
    }
}
