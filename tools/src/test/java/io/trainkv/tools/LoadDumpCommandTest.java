package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** load and dump: exact round trips in every format and encoding, and what happens to bad input. */
class LoadDumpCommandTest {

    @TempDir
    Path tempDir;

    @Test
    void loadThenDumpRoundTripsOneHundredThousandBinaryRowsExactly() throws Exception {
        Random random = new Random(20261127);
        TreeMap<byte[], byte[]> rows = new TreeMap<>(Arrays::compareUnsigned);
        while (rows.size() < 100_000) {
            byte[] key = new byte[1 + random.nextInt(24)];
            random.nextBytes(key);
            byte[] value = new byte[rows.size() % 100 == 0 ? 3000 : random.nextInt(64)];
            random.nextBytes(value);
            rows.put(key, value);
        }
        StringBuilder text = new StringBuilder();
        Base64.Encoder base64 = Base64.getEncoder();
        rows.forEach((k, v) -> text.append(base64.encodeToString(k)).append('\t').append(base64.encodeToString(v)).append('\n'));
        Path input = tempDir.resolve("rows.tsv");
        Files.writeString(input, text);
        Path db = tempDir.resolve("db");

        ToolRun load = ToolRun.of("load", db.toString(), input.toString(), "--encoding", "base64", "--batch-size", "5000");
        assertEquals(0, load.code(), load.err());
        assertTrue(load.out().contains("loaded 100000 keys"), load.out());
        Path output = tempDir.resolve("dump.tsv");
        ToolRun dump = ToolRun.of("dump", db.toString(), "--output", output.toString(), "--encoding", "base64");
        assertEquals(0, dump.code(), dump.err());
        assertTrue(dump.err().contains("dumped 100000 keys"), dump.err());
        assertArrayEquals(Files.readAllBytes(input), Files.readAllBytes(output), "the dump is the input, byte for byte");
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            byte[] someKey = rows.keySet().stream().skip(500).findFirst().orElseThrow();
            assertArrayEquals(rows.get(someKey), opened.get(someKey));
        }
    }

    @Test
    void textRoundTripsInEveryFormat() throws Exception {
        String tsv = "a,comma\tvalue with \"quotes\" and\ttab\nb\\slash\tünïcødé ✓\nc\t\n";
        String csv = "\"a,comma\",\"value \"\"quoted\"\"\"\nb\\slash,ünïcødé ✓\nc,\n";
        String jsonl = "{\"key\":\"a\\n\\\"b\\\"\",\"value\":\"line\\nbreak\\ttab \\u0001\"}\n{\"key\":\"c\",\"value\":\"✓\"}\n";
        String[][] cases = {{"tsv", tsv}, {"csv", csv}, {"jsonl", jsonl}};
        for (String[] c : cases) {
            Path input = tempDir.resolve("in." + c[0]);
            Files.writeString(input, c[1]);
            Path db = tempDir.resolve("db-" + c[0]);
            ToolRun load = ToolRun.of("load", db.toString(), input.toString());
            assertEquals(0, load.code(), c[0] + ": " + load.err());
            Path output = tempDir.resolve("out." + c[0]);
            ToolRun dump = ToolRun.of("dump", db.toString(), "-o", output.toString());
            assertEquals(0, dump.code(), c[0] + ": " + dump.err());
            assertEquals(c[1], Files.readString(output), c[0]);
        }
        try (TrainKV opened = TrainKV.open(Options.at(tempDir.resolve("db-jsonl")))) {
            assertEquals("line\nbreak\ttab \u0001", opened.get("a\n\"b\""));
        }
    }

    @Test
    void loadReadsStandardInputAndDumpWritesStandardOutput() throws Exception {
        Path db = tempDir.resolve("db");
        InputStream oldIn = System.in;
        try {
            System.setIn(new ByteArrayInputStream("k1\tv1\r\nk2\tv2\n".getBytes(StandardCharsets.UTF_8)));
            ToolRun load = ToolRun.of("load", db.toString(), "-");
            assertEquals(0, load.code(), load.err());
            assertTrue(load.out().contains("loaded 2 keys from standard input"), load.out());
        } finally {
            System.setIn(oldIn);
        }
        ToolRun dump = ToolRun.of("dump", db.toString(), "--format", "jsonl", "--encoding", "hex");
        assertEquals(0, dump.code(), dump.err());
        assertEquals("{\"key\":\"6b31\",\"value\":\"7631\"}\n{\"key\":\"6b32\",\"value\":\"7632\"}\n", dump.out());
    }

    @Test
    void aBadLineStopsTheLoadWithoutWritingAnyOfItsBatch() throws Exception {
        Path db = tempDir.resolve("db");
        Path input = tempDir.resolve("in.tsv");
        Files.writeString(input, "k1\t1\nk2\t2\nk3\t3\nk4\t4\nk5\t5\nk6\t6\nk7\t7\nno tab\nk9\t9\n");
        ToolRun load = ToolRun.of("load", db.toString(), input.toString(), "--batch-size", "3");
        assertEquals(1, load.code());
        assertTrue(load.err().contains("in.tsv:8: error: expected KEY<TAB>VALUE"), load.err());
        assertTrue(load.err().contains("stopped at line 8: lines 7..8 (the batch holding it) were not written; lines 1..6 were"),
                load.err());
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            for (int i = 1; i <= 6; i++) {
                assertEquals(Integer.toString(i), opened.get("k" + i));
            }
            assertNull(opened.get("k7"), "the batch holding the bad line was not half-applied");
            assertNull(opened.get("k9"));
        }
    }

    @Test
    void skipBadReportsEveryBadLineAndLoadsTheRest() throws Exception {
        Path db = tempDir.resolve("db");
        Path input = tempDir.resolve("in.tsv");
        byte[] notUtf8 = {'b', 'a', 'd', '\t', (byte) 0xC3, (byte) 0x28, '\n'};
        try (var out = Files.newOutputStream(input)) {
            out.write("k1\t1\nno tab\n".getBytes(StandardCharsets.UTF_8));
            out.write(notUtf8);
            out.write("k4\t4\n".getBytes(StandardCharsets.UTF_8));
        }
        ToolRun load = ToolRun.of("load", db.toString(), input.toString(), "--skip-bad");
        assertEquals(1, load.code());
        assertTrue(load.err().contains("in.tsv:2: error: expected KEY<TAB>VALUE"), load.err());
        assertTrue(load.err().contains("in.tsv:3: error: not valid UTF-8"), load.err());
        assertTrue(load.out().contains("loaded 2 keys from " + input + ", skipped 2 bad line(s)"), load.out());
        Path hexInput = tempDir.resolve("in-hex.tsv");
        Files.writeString(hexInput, "6b35\tzz\n6b36\t36\n");
        ToolRun hex = ToolRun.of("load", db.toString(), hexInput.toString(), "--encoding", "hex", "--skip-bad");
        assertEquals(1, hex.code());
        assertTrue(hex.err().contains("in-hex.tsv:1: error: value not hex"), hex.err());
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            assertEquals("1", opened.get("k1"));
            assertEquals("4", opened.get("k4"));
            assertEquals("6", opened.get("k6"));
            assertNull(opened.get("k5"));
        }
    }

    @Test
    void binaryDataAsTextStopsTheDumpNamingTheKeyAndLeavesNoFile() throws Exception {
        Path db = tempDir.resolve("db");
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            opened.set("fine", "text");
            opened.set(new byte[] {'b', 'i', 'n'}, new byte[] {(byte) 0xFF, 0});
            opened.set("multi", "line\nvalue");
        }
        Path output = tempDir.resolve("out.tsv");
        ToolRun dump = ToolRun.of("dump", db.toString(), "-o", output.toString());
        assertEquals(1, dump.code());
        assertTrue(dump.err().contains("key 0x62696e: not valid UTF-8 text"), dump.err());
        assertFalse(Files.exists(output), "no partial output");
        try (var files = Files.list(tempDir)) {
            assertFalse(files.anyMatch(f -> f.toString().endsWith(".partial")), "the temporary file is gone");
        }
        ToolRun lines = ToolRun.of("dump", db.toString(), "--prefix", "multi");
        assertEquals(1, lines.code());
        assertTrue(lines.err().contains("a line break in a key or value, which TSV cannot carry"), lines.err());
        ToolRun base64 = ToolRun.of("dump", db.toString(), "-o", output.toString(), "--encoding", "base64");
        assertEquals(0, base64.code(), base64.err());
        ToolRun again = ToolRun.of("dump", db.toString(), "-o", output.toString(), "--encoding", "base64");
        assertEquals(2, again.code());
        assertTrue(again.err().contains("exists; use --force"), again.err());
        assertEquals(0, ToolRun.of("dump", db.toString(), "-o", output.toString(), "--encoding", "base64", "--force").code());
    }

    @Test
    void dumpSelectsKeysByPrefixAndByRangeExcludingTheToKeyUnlessInclusive() throws Exception {
        Path db = tempDir.resolve("db");
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            for (String key : new String[] {"a", "b", "b1", "b2", "c", "c\0", "user:1", "user:2"}) {
                opened.set(key, "v");
            }
            opened.delete("b1");
        }
        assertEquals("b\tv\nb2\tv\n", ToolRun.of("dump", db.toString(), "--from", "b", "--to", "c").out());
        assertEquals("b\tv\nb2\tv\nc\tv\n", ToolRun.of("dump", db.toString(), "--from", "b", "--to", "c",
                "--inclusive").out());
        ToolRun empty = ToolRun.of("dump", db.toString(), "--from", "c", "--to", "c");
        assertEquals(2, empty.code());
        assertTrue(empty.err().contains("[from, to) is empty"), empty.err());
        assertEquals(2, ToolRun.of("dump", db.toString(), "--inclusive").code());
        assertTrue(ToolRun.of("dump", "--help").out().contains("[from, to)"));
        assertEquals("user:1\tv\nuser:2\tv\n", ToolRun.of("dump", db.toString(), "--prefix", "user:").out());
    }

    @Test
    void dumpOpensReadOnlyLeavingEveryFileAsItWas() throws Exception {
        Path db = tempDir.resolve("db");
        try (TrainKV opened = TrainKV.open(Options.at(db).valueThreshold(16))) {
            opened.set("flushed", "a value long enough for the value log");
            opened.flush();
            opened.set("in-the-wal", "written after the flush");
        }
        Map<String, String> before = fingerprint(db);
        ToolRun dump = ToolRun.of("dump", db.toString());
        assertEquals(0, dump.code(), dump.err());
        assertEquals("flushed\ta value long enough for the value log\nin-the-wal\twritten after the flush\n", dump.out());
        assertEquals(before, fingerprint(db), "dump wrote, renamed or deleted nothing");
    }

    /** Every file of the directory with its SHA-256. */
    static Map<String, String> fingerprint(Path dir) throws Exception {
        Map<String, String> files = new TreeMap<>();
        try (var list = Files.list(dir)) {
            for (Path file : list.toList()) {
                byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
                files.put(file.getFileName().toString(), java.util.HexFormat.of().formatHex(digest));
            }
        }
        return files;
    }

    @Test
    void largeValuesAreCutIntoBatchesThatFitTheMemtable() throws Exception {
        Path input = tempDir.resolve("big.tsv");
        String value = "v".repeat(1 << 20);
        try (var out = Files.newBufferedWriter(input)) {
            for (int i = 0; i < 70; i++) {
                out.write("big-" + i + "\t" + value + "\n");
            }
        }
        Path db = tempDir.resolve("db");
        ToolRun load = ToolRun.of("load", db.toString(), input.toString());
        assertEquals(0, load.code(), load.err());
        assertTrue(load.out().contains("loaded 70 keys"), load.out());
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            assertEquals(value, opened.get("big-69"));
        }
    }

    @Test
    void aByteOrderMarkIsABadFirstLineNotPartOfAKey() throws Exception {
        Path input = tempDir.resolve("bom.tsv");
        Files.writeString(input, "\uFEFFk1\t1\nk2\t2\n");
        Path db = tempDir.resolve("db");
        ToolRun load = ToolRun.of("load", db.toString(), input.toString(), "--skip-bad");
        assertEquals(1, load.code());
        assertTrue(load.err().contains("bom.tsv:1: error: the file starts with a UTF-8 byte order mark"), load.err());
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            assertNull(opened.get("\uFEFFk1"));
            assertEquals("2", opened.get("k2"));
        }
    }

    @Test
    void loadRefusesADirectoryOfOtherFiles() throws Exception {
        Path notADatabase = tempDir.resolve("photos");
        Files.createDirectories(notADatabase);
        Files.writeString(notADatabase.resolve("000001.sst"), "someone else's file");
        Path input = tempDir.resolve("in.tsv");
        Files.writeString(input, "k\tv\n");
        ToolRun load = ToolRun.of("load", notADatabase.toString(), input.toString());
        assertEquals(2, load.code());
        assertTrue(load.err().contains("holds files but is not a TrainKV database"), load.err());
        assertEquals("someone else's file", Files.readString(notADatabase.resolve("000001.sst")));
        try (var files = Files.list(notADatabase)) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void dumpRefusesWhatIsNotAClosedDatabase() throws Exception {
        Path notADatabase = tempDir.resolve("empty");
        Files.createDirectories(notADatabase);
        ToolRun empty = ToolRun.of("dump", notADatabase.toString());
        assertEquals(2, empty.code());
        assertTrue(empty.err().contains("is not a TrainKV database"), empty.err());
        try (var files = Files.list(notADatabase)) {
            assertEquals(0, files.count(), "dump wrote nothing into a directory that is not a database");
        }
        Path db = tempDir.resolve("db");
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            opened.set("k", "v");
            ToolRun refused = ToolRun.of("dump", db.toString());
            assertEquals(2, refused.code());
            assertTrue(refused.err().contains("close it first"), refused.err());
        }
    }

    @Test
    void loadFromATerminalSaysHowToEndTheInputAndDrawsNoBar() throws Exception {
        Path db = tempDir.resolve("db");
        InputStream oldIn = System.in;
        ToolRun load;
        try {
            System.setIn(new ByteArrayInputStream("k1\tv1\n".getBytes(StandardCharsets.UTF_8)));
            LoadCommand command = new LoadCommand();
            command.inputIsTerminal = true;
            load = ToolRun.ofCommand(command, db.toString());
        } finally {
            System.setIn(oldIn);
        }
        assertEquals(0, load.code(), load.err());
        assertEquals("reading TSV from the terminal; end with Ctrl-D", load.err().lines().findFirst().orElse(""), load.err());
        assertFalse(load.err().contains("\r"), "no bar drawn over the typing: " + load.err());
        assertTrue(load.out().contains("loaded 1 keys from standard input"), load.out());
    }

    @Test
    void jsonLinesErrorsNameTheMemberAndWhatIsWrongWithIt() throws Exception {
        Path input = tempDir.resolve("in.jsonl");
        Files.writeString(input, String.join("\n", "{\"key\":\"k1\",\"value\":\"v1\"}", "{\"key\":\"k2\",\"value\":123}",
                "{\"value\":\"v3\"}", "[\"k4\",\"v4\"]", "{\"key\":\"k5\",\"value\":\"v5\"", "{\"key\":true,\"value\":\"v6\"}",
                "{\"key\":\"k7\",\"value\":null}", "{\"key\":\"k8\",\"value\":\"v8\",\"note\":1}") + "\n");
        Path db = tempDir.resolve("db");
        ToolRun load = ToolRun.of("load", db.toString(), input.toString(), "--skip-bad");
        assertEquals(1, load.code());
        List<String> errors = load.err().lines().filter(l -> l.contains(": error: ")).toList();
        assertEquals(6, errors.size(), load.err());
        assertEquals(input + ":2: error: \"value\" must be a string, got a number", errors.get(0));
        assertEquals(input + ":3: error: \"key\" is missing", errors.get(1));
        assertEquals(input + ":4: error: expected a JSON object with \"key\" and \"value\", got an array", errors.get(2));
        assertTrue(errors.get(3).startsWith(input + ":5: error: not JSON: "), errors.get(3));
        assertEquals(input + ":6: error: \"key\" must be a string, got a boolean", errors.get(4));
        assertEquals(input + ":7: error: \"value\" must be a string, got null", errors.get(5));
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            assertEquals("v1", opened.get("k1"));
            assertEquals("v8", opened.get("k8"), "members other than key and value are ignored");
        }
    }

    @Test
    void csvQuotedFieldsHoldLineBreaksAndDoubledQuotesBothWays() throws Exception {
        String csv = "\"multi\nline key\",\"say \"\"hi\"\"\r\nand bye\"\n\"k,3\",\n"
                + "plain,\"a \"\"quoted\"\" word\"\n";
        Path input = tempDir.resolve("in.csv");
        Files.writeString(input, csv);
        Path db = tempDir.resolve("db");
        ToolRun load = ToolRun.of("load", db.toString(), input.toString());
        assertEquals(0, load.code(), load.err());
        assertTrue(load.out().contains("loaded 3 keys"), load.out());
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            assertEquals("say \"hi\"\r\nand bye", opened.get("multi\nline key"));
            assertEquals("", opened.get("k,3"));
            assertEquals("a \"quoted\" word", opened.get("plain"));
        }
        Path output = tempDir.resolve("out.csv");
        ToolRun dump = ToolRun.of("dump", db.toString(), "-o", output.toString());
        assertEquals(0, dump.code(), dump.err());
        ToolRun reload = ToolRun.of("load", tempDir.resolve("again").toString(), output.toString());
        assertEquals(0, reload.code(), reload.err());
        assertEquals(Files.readString(output), ToolRun.of("dump", tempDir.resolve("again").toString(), "--format", "csv").out(),
                "the dump loads back to the same records");

        Path bad = tempDir.resolve("bad.csv");
        Files.writeString(bad, "a,\"two\nlines\"\nb,c,d\ne,f\n");
        ToolRun skipped = ToolRun.of("load", tempDir.resolve("db2").toString(), bad.toString(), "--skip-bad");
        assertEquals(1, skipped.code());
        assertTrue(skipped.err().contains("bad.csv:3: error: expected KEY,VALUE (two fields), got 3 field(s)"), skipped.err());
        Path unterminated = tempDir.resolve("open.csv");
        Files.writeString(unterminated, "a,1\nb,\"never closed\nc,3\n");
        ToolRun stopped = ToolRun.of("load", tempDir.resolve("db3").toString(), unterminated.toString(), "--skip-bad");
        assertEquals(1, stopped.code());
        assertTrue(stopped.err().contains("malformed CSV") && stopped.err().contains("stopped at line"), stopped.err());
    }

    @Test
    void dumpFilesFollowTheUmaskAndStayAtomic() throws Exception {
        Path db = tempDir.resolve("db");
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            opened.set("k", "v");
        }
        Path reference = Files.createFile(tempDir.resolve("reference"));
        Path output = tempDir.resolve("out.tsv");
        ToolRun dump = ToolRun.of("dump", db.toString(), "-o", output.toString());
        assertEquals(0, dump.code(), dump.err());
        assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(output),
                "created like any file the user makes, as the umask says");
        assertEquals("k\tv\n", Files.readString(output));
        try (var files = Files.list(tempDir)) {
            assertFalse(files.anyMatch(f -> f.toString().endsWith(".partial")), "the temporary file was renamed");
        }
    }

    @Test
    void dumpIntoAMissingDirectoryIsOneLineCheckedBeforeTheDatabaseIsOpened() throws Exception {
        Path db = tempDir.resolve("db");
        try (TrainKV opened = TrainKV.open(Options.at(db))) {
            opened.set("k", "v");
        }
        try (var files = Files.list(db)) {
            for (Path manifest : files.filter(f -> f.getFileName().toString().startsWith("MANIFEST-")).toList()) {
                Files.write(manifest, new byte[] {1, 2, 3}, StandardOpenOption.TRUNCATE_EXISTING);
            }
        }
        Path missing = tempDir.resolve("missing").resolve("dir");
        ToolRun dump = ToolRun.of("dump", db.toString(), "-o", missing.resolve("x.tsv").toString());
        assertEquals(2, dump.code());
        assertEquals("error: cannot write " + missing.resolve("x.tsv") + ": the directory " + missing + " does not exist\n",
                dump.err(), "one line about the directory, not the damaged manifest an open would meet");
        assertFalse(Files.exists(tempDir.resolve("missing")));
    }
}
