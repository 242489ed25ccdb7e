package io.trainkv.shell;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.DbIterator;
import io.trainkv.IteratorOptions;
import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.ExternalTerminal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a person types at the prompt is what is stored: every line here goes through the real JLine
 * line reader on an xterm-type terminal over piped streams (keys typed, Tab for completion), and
 * the result is read back from the database.
 */
class InteractiveShellTest {

    @TempDir
    Path tempDir;

    private TrainKV db;

    @BeforeEach
    void open() {
        db = TrainKV.open(Options.at(tempDir.resolve("db")));
    }

    @AfterEach
    void close() {
        db.close();
    }

    /** Types {@code keys} (then exit) at the REPL on {@code target}; returns the screen. */
    private String type(TrainKV target, String keys) throws Exception {
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        byte[] input = (keys + "exit\r").getBytes(StandardCharsets.UTF_8);
        try (Terminal terminal = new ExternalTerminal("test", "xterm", new ByteArrayInputStream(input), screen,
                StandardCharsets.UTF_8)) {
            terminal.setSize(new Size(400, 50));
            Repl.run(target, terminal, tempDir.resolve("history"));
        }
        return screen.toString(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    /** The rows of the issue's table: the line typed, the key it sets, the bytes it must store. */
    static Stream<Arguments> issueTable() {
        return Stream.of(
                Arguments.of("set bang2 a!b", "bang2", "a!b".getBytes(StandardCharsets.UTF_8)),
                Arguments.of("set bang3 \"!!\"", "bang3", "!!".getBytes(StandardCharsets.UTF_8)),
                Arguments.of("set e1 \"a\\nb\"", "e1", bytes('a', '\n', 'b')),
                Arguments.of("set e2 \"a\\\"q\\\"b\"", "e2", "a\"q\"b".getBytes(StandardCharsets.UTF_8)),
                Arguments.of("set e3 \"a\\\\b\"", "e3", bytes('a', '\\', 'b')),
                Arguments.of("set e4 \"\\x41\\x00\"", "e4", bytes('A', 0)),
                Arguments.of("set u \"\uD83C\uDF89\"", "u", bytes(0xf0, 0x9f, 0x8e, 0x89)));
    }

    @ParameterizedTest
    @MethodSource("issueTable")
    void aLineTypedAtThePromptStoresExactlyWhatWasTyped(String line, String key, byte[] expected) throws Exception {
        // earlier commands in the history, as in the trial (!b found "begin" there)
        String screen = type(db, "begin\rrollback\r" + line + "\r");
        assertArrayEquals(expected, db.get(key.getBytes(StandardCharsets.UTF_8)), screen);
    }

    @Test
    void anEmojiIsStoredAsItsFourUtf8BytesInBatchModeToo() throws Exception {
        StringWriter err = new StringWriter();
        CommandInterpreter shell = new CommandInterpreter(db, new PrintWriter(new StringWriter()), new PrintWriter(err), 1);
        String script = "set u \"\uD83C\uDF89\"\nset plain \uD83C\uDF89x\n";
        assertEquals(0, BatchRunner.run(shell, new BufferedReader(new StringReader(script)), "emoji.tkv", false), err.toString());
        assertArrayEquals(bytes(0xf0, 0x9f, 0x8e, 0x89), db.get("u".getBytes(StandardCharsets.UTF_8)));
        assertArrayEquals(bytes(0xf0, 0x9f, 0x8e, 0x89, 'x'), db.get("plain".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aQuoteOrApostropheLeftOpenIsTheTokenizersErrorNotAContinuationLine() throws Exception {
        String screen = type(db, "set k \"open\rset it's ok\r");
        assertTrue(screen.contains("error: unterminated quote"), screen);
        assertEquals("ok", db.get("it's"), "an apostrophe is an ordinary character");
    }

    /** Bytes that stress the syntax: any byte, quotes, backslashes, !, #, spaces, emoji, 0x, --. */
    private static byte[] randomBytes(Random random, int minPieces) {
        String[] pieces = {"\"", "\\", "!", "!!", "#", " ", "\n", "\t", "0x", "--", "\u00e9", "\u4e2d",
            "\uD83C\uDF89", "\u200d", "'", "=", "a", "Z", "\\x41"};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int n = minPieces + random.nextInt(12);
        for (int i = 0; i < n; i++) {
            switch (random.nextInt(3)) {
                case 0 -> out.write(random.nextInt(256));
                case 1 -> out.write(0x20 + random.nextInt(0x5f));
                default -> out.writeBytes(pieces[random.nextInt(pieces.length)].getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    private static Map<String, byte[]> contents(TrainKV source) {
        Map<String, byte[]> all = new TreeMap<>();
        try (DbIterator it = source.iterator(IteratorOptions.forward())) {
            for (it.seekToFirst(); it.valid(); it.next()) {
                all.put(HexFormat.of().formatHex(it.key()), it.value());
            }
        }
        return all;
    }

    /** Prints every pair with scan (plus {@code flags}) and types each printed line back as a set. */
    private void assertPrintedFormsPasteBack(String flags) throws Exception {
        Random random = new Random(15);
        for (int i = 0; i < 300; i++) {
            db.set(randomBytes(random, 1), randomBytes(random, 0));
        }
        StringWriter printed = new StringWriter();
        StringWriter err = new StringWriter();
        CommandInterpreter shell = new CommandInterpreter(db, new PrintWriter(printed), new PrintWriter(err), 1);
        assertTrue(shell.execute("scan --limit 1000" + flags, null), err.toString());
        shell.close();
        StringBuilder typed = new StringBuilder();
        List<String> lines = printed.toString().lines().toList();
        for (String line : lines) {
            List<Tokenizer.Span> spans = Tokenizer.spans(line);
            assertEquals(3, spans.size(), line);
            typed.append("set ").append(line, spans.get(0).start(), spans.get(0).end()).append(' ')
                    .append(line, spans.get(2).start(), spans.get(2).end()).append('\r');
        }
        Map<String, byte[]> expected = contents(db);
        assertEquals(expected.size(), lines.size());
        try (TrainKV copy = TrainKV.open(Options.at(tempDir.resolve("copy")))) {
            String screen = type(copy, typed.toString());
            Map<String, byte[]> actual = contents(copy);
            assertEquals(expected.keySet(), actual.keySet(), screen);
            for (Map.Entry<String, byte[]> e : expected.entrySet()) {
                assertArrayEquals(e.getValue(), actual.get(e.getKey()), "value of key 0x" + e.getKey());
            }
        }
    }

    @Test
    void printedKeysAndValuesPastedBackAtThePromptStoreTheSameBytes() throws Exception {
        assertPrintedFormsPasteBack("");
    }

    @Test
    void hexOutputPastedBackAtThePromptStoresTheSameBytes() throws Exception {
        assertPrintedFormsPasteBack(" --hex");
    }

    @Test
    void tabCompletesKeysThatNeedQuotesOrHexInTheFormTheTokenizerReads() throws Exception {
        db.set("hello world", "1");
        db.set("say \"hi\"", "2");
        db.set(bytes(0xfe, 0x01, 0x02), bytes(3));
        db.set(bytes('t', 'a', 'b', '\t', 0xe9), bytes(4));
        String screen = type(db, "del hel\t\rdel say\t\rdel 0xfe\t\rdel \"tab\t\r");
        assertTrue(screen.contains("\"hello world\""), screen);
        assertTrue(screen.contains("\"say \\\"hi\\\"\""), screen);
        assertTrue(screen.contains("0xfe0102"), screen);
        assertTrue(screen.contains("\"tab\\t\\xe9\""), screen);
        assertEquals(Map.of(), contents(db), screen);
    }

    @Test
    void tabCompletesPlainKeysAsTheyAre() throws Exception {
        db.set("user:1", "Ada");
        db.set("other", "x");
        type(db, "del us\t\r");
        assertNull(db.get("user:1"));
        assertEquals("x", db.get("other"));
    }

    @Test
    void theScreenShowsPrintableUtf8AsTextAndEscapesTheRest() throws Exception {
        db.set(bytes('k'), "h\u00e9llo \uD83C\uDF89\n\"q\"\\".getBytes(StandardCharsets.UTF_8));
        db.set(bytes('b'), bytes(0, 0xff, 'a'));
        String screen = type(db, "get k\rget b\rget b --hex\r");
        assertTrue(screen.contains("\"h\u00e9llo \uD83C\uDF89\\n\\\"q\\\"\\\\\""), screen);
        assertTrue(screen.contains("\"\\x00\\xffa\""), screen);
        assertTrue(screen.contains("0x00ff61"), screen);
    }
}
