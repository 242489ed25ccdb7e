package io.trainkv.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.DumbTerminal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The launcher's argument and path checks, error wording in shell terms, the source nesting
 * limit, leaving with a transaction open, and the batch output rule (issue 15, items 2, 3, 4, 8).
 */
class ShellErrorsTest {

    @TempDir
    Path tempDir;

    /** One run of {@code trainkv shell}: its exit code, standard output and standard error. */
    private record Run(int code, String out, String err) {
        /** The error output is one line that names no Java class. */
        void assertOneLineError(String expectedPart) {
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.startsWith("error: ") && err.contains(expectedPart), err);
            assertFalse(err.contains("java.") || err.contains("Exception") || err.contains("\tat "), err);
        }
    }

    private Run shell(String stdin, String... args) {
        ShellCommand command = new ShellCommand();
        command.stdin = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        command.terminal = false;
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = ShellCommand.commandLine(command);
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int code = commandLine.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static long entries(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.count();
        }
    }

    private String repl(Path db, String typed) throws Exception {
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        TrainKV open = TrainKV.open(Options.at(db));
        try (Terminal terminal = new DumbTerminal(new ByteArrayInputStream(typed.getBytes(StandardCharsets.UTF_8)),
                screen)) {
            Repl.run(open, terminal, tempDir.resolve("history"));
        }
        // closed only when the session ended normally: after the StackOverflowError of an unbounded
        // source (the old shell), close waits forever for the write that overflowed
        open.close();
        return screen.toString(StandardCharsets.UTF_8);
    }

    /** An existing, empty database directory. */
    private Path emptyDatabase() {
        Path db = tempDir.resolve("db");
        TrainKV.open(Options.at(db)).close();
        return db;
    }

    private static String get(Path db, String key) {
        try (TrainKV open = TrainKV.open(Options.at(db))) {
            return open.get(key);
        }
    }

    @Test
    void aScriptThatSourcesItselfGetsOneErrorLineAndTheSessionSurvives() throws Exception {
        Path self = tempDir.resolve("self.tkv");
        Files.writeString(self, "set n 1\nsource " + self + "\n");
        String screen = repl(tempDir.resolve("db"), "source " + self + "\nset after yes\nexit\n");
        assertEquals(1, screen.lines().filter(l -> l.contains("error")).count(), screen);
        assertTrue(screen.contains("source nests deeper than 16 files"), screen);
        assertEquals("yes", get(tempDir.resolve("db"), "after"), "the session went on after the error");

        Run batch = shell("source " + self + "\n", "--db", tempDir.resolve("db").toString());
        assertEquals(1, batch.code());
        assertEquals(1, batch.err().lines().count(), batch.err());
        assertTrue(batch.err().startsWith("stdin:1: error: source nests deeper"), batch.err());
    }

    @Test
    void aMissingScriptOrADirectoryAsScriptIsOneLineExit2AndTouchesNoDatabase() throws Exception {
        Path db = Files.createDirectory(tempDir.resolve("db"));
        Run missing = shell("", "--db", db.toString(), "--file", tempDir.resolve("nope.tkv").toString());
        assertEquals(2, missing.code());
        missing.assertOneLineError("nope.tkv: no such file");
        Run directory = shell("", "--db", db.toString(), "--file", tempDir.toString());
        assertEquals(2, directory.code());
        directory.assertOneLineError("is a directory");
        assertEquals(0, entries(db), "the database was not opened");
        Run fresh = shell("", "--db", tempDir.resolve("new").toString(), "--create", "--file", "nope.tkv");
        assertEquals(2, fresh.code());
        assertFalse(Files.exists(tempDir.resolve("new")), "no database directory created for a failed start");
    }

    @Test
    void aDatabaseDirectoryIsCreatedOnlyWithCreateAndNeverWithItsParents() throws Exception {
        Path typo = tempDir.resolve("no/such/parents/db");
        Run withoutCreate = shell("set a 1\n", "--db", typo.toString());
        assertEquals(2, withoutCreate.code());
        withoutCreate.assertOneLineError("does not exist (pass --create to create it)");
        Run withCreate = shell("set a 1\n", "--db", typo.toString(), "--create");
        assertEquals(2, withCreate.code());
        withCreate.assertOneLineError("its parent");
        assertFalse(Files.exists(tempDir.resolve("no")), "no parent created");

        Path db = tempDir.resolve("db");
        assertEquals(0, shell("set a 1\n", "--db", db.toString(), "--create").code());
        assertEquals("1", get(db, "a"));
    }

    @Test
    void aFileAsDatabaseDirectoryIsSaidInWords() throws Exception {
        Path file = Files.writeString(tempDir.resolve("notes.txt"), "x");
        Run run = shell("get a\n", "--db", file.toString());
        assertEquals(2, run.code());
        run.assertOneLineError("is a file, not a directory");
    }

    @Test
    void readOnlyOpensWithOptionsReadOnlyAndRefusesWritesInShellTerms() throws Exception {
        Path db = tempDir.resolve("db");
        try (TrainKV open = TrainKV.open(Options.at(db))) {
            open.set("k", "v");
        }
        Run run = shell("get k\nset k2 v2\n", "--db", db.toString(), "--read-only");
        assertEquals(1, run.code());
        assertEquals("\"v\"\n", run.out());
        assertEquals("stdin:2: error: the database is open read-only (--read-only): set is not allowed\n", run.err());
        Run begin = shell("begin\n", "--db", db.toString(), "--read-only");
        assertTrue(begin.err().contains("use `begin --read-only`"), begin.err());
        assertNull(get(db, "k2"));
        assertEquals(2, shell("", "--db", db.toString(), "--read-only", "--create").code());
    }

    @Test
    void aBatchSizeBelowOneIsRefused() {
        Path db = emptyDatabase();
        for (String size : new String[] {"0", "-5"}) {
            Run run = shell("set a 1\n", "--db", db.toString(), "--batch-size", size);
            assertEquals(2, run.code(), size);
            run.assertOneLineError("--batch-size must be at least 1, got " + size);
        }
        assertNull(get(db, "a"));
    }

    @Test
    void aScriptThatEndsOrExitsInsideBeginFailsNamingTheBeginLineAndCommitsNothing() {
        Path db = emptyDatabase();
        Run ended = shell("set a 1\nbegin\nset b 2\n", "--db", db.toString());
        assertEquals(1, ended.code());
        assertTrue(ended.err().startsWith("stdin:3: error: the script ended inside the transaction begun at stdin:2;"),
                ended.err());
        Run exited = shell("begin\nset c 3\nexit\nset d 4\n", "--db", db.toString());
        assertEquals(1, exited.code());
        assertTrue(exited.err().startsWith("stdin:3: error: exit inside the transaction begun at stdin:1;"),
                exited.err());
        assertEquals("1", get(db, "a"));
        assertNull(get(db, "b"));
        assertNull(get(db, "c"));
        assertNull(get(db, "d"));
    }

    @Test
    void leavingThePromptInsideBeginAsksFirst() throws Exception {
        Path db = tempDir.resolve("db");
        String stayed = repl(db, "begin\nset k 1\nexit\n\ncommit\nexit\n");
        assertTrue(stayed.contains("a transaction is open; leave and discard it? (y/N)"), stayed);
        assertEquals("1", get(db, "k"), "Enter stays, and the commit after it ran");

        String discarded = repl(db, "begin\nset k 2\nexit\ny\n");
        assertTrue(discarded.contains("the transaction was discarded"), discarded);
        assertEquals("1", get(db, "k"));

        String endOfInput = repl(db, "begin\nset k 3\n");
        assertTrue(endOfInput.contains("leave and discard it?"), endOfInput);
        assertEquals("1", get(db, "k"), "Ctrl-D asked too; a second one left without committing");
    }

    @Test
    void fileArgumentAndTtlErrorsAreInShellTerms() throws Exception {
        Path db = emptyDatabase();
        Path missing = tempDir.resolve("notes.txt");
        Run run = shell("set --file k " + missing + "\nsource " + missing + "\nsource " + tempDir
                        + "\nset k v ttl=0s\nset k v ttl=99999999999999999d\nbegin --read-only\nset k v\ndel k\n"
                        + "rollback\n",
                "--db", db.toString(), "--continue-on-error");
        assertEquals(1, run.code());
        String[] lines = run.err().split("\n");
        assertEquals("stdin:1: error: cannot read " + missing + ": no such file or directory", lines[0]);
        assertEquals("stdin:2: error: cannot read " + missing + ": no such file or directory", lines[1]);
        assertEquals("stdin:3: error: cannot read " + tempDir + ": is a directory", lines[2]);
        assertEquals("stdin:4: error: ttl must be at least 1s, got 0s", lines[3]);
        assertEquals("stdin:5: error: ttl must be at most 365250d, got 99999999999999999d", lines[4]);
        assertEquals("stdin:7: error: inside `begin --read-only`, set is not allowed; use `begin` for a transaction "
                + "that writes", lines[5]);
        assertEquals("stdin:8: error: inside `begin --read-only`, del is not allowed; use `begin` for a transaction "
                + "that writes", lines[6]);
        assertEquals(7, lines.length, run.err());
    }

    @Test
    void aFullTransactionIsExplainedWithoutJavaOptionNames() {
        StringWriter err = new StringWriter();
        try (TrainKV db = TrainKV.open(Options.at(tempDir.resolve("small")).memtableSize(64 * 1024))) {
            CommandInterpreter shell = new CommandInterpreter(db, new PrintWriter(new StringWriter()),
                    new PrintWriter(err, true), 1);
            shell.execute("begin", null);
            for (int i = 0; i < 100 && err.getBuffer().length() == 0; i++) {
                shell.execute("set k" + i + " " + "v".repeat(1000), null);
            }
            shell.close();
        }
        assertTrue(err.toString().startsWith("error: the transaction is full") && !err.toString().contains("valueThreshold"),
                err.toString());
    }

    @Test
    void batchOutputPrintsResultsOnlyAndEchoPrintsATranscript() {
        Path db = emptyDatabase();
        String script = "set a 1\nset z 0\ndel z\nbegin\nset b 2\ncommit\nget b\ncompact\n";
        Run quiet = shell(script, "--db", db.toString());
        assertEquals(0, quiet.code(), quiet.err());
        assertEquals("\"2\"\n", quiet.out());
        Run echo = shell("del a\nset c 3\nget c\n", "--db", db.toString(), "--echo");
        assertEquals("> del a\nOK\n> set c 3\nOK\n> get c\n\"3\"\n", echo.out());
        Run help = shell("help\n", "--db", db.toString());
        assertTrue(help.out().contains("--echo also prints each command"), help.out());
    }
}
