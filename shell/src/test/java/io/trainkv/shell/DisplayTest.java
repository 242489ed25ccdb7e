package io.trainkv.shell;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The printed forms of keys and values, and that the tokenizer reads each back as the same bytes. */
class DisplayTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] readBack(String printed) {
        List<Tokenizer.Word> words = Tokenizer.split(printed);
        assertEquals(1, words.size(), printed);
        return words.get(0).bytes();
    }

    @Test
    void printableUtf8IsTextAndOnlyTheRestIsEscaped() {
        assertEquals("\"h\u00e9llo\"", Display.quote(utf8("h\u00e9llo")));
        assertEquals("\"a\\nb\\tc\\\\d\\\"e\\rf\"", Display.quote(utf8("a\nb\tc\\d\"e\rf")));
        assertEquals("\"\uD83D\uDC69\u200D\uD83D\uDCBB\"", Display.quote(utf8("\uD83D\uDC69\u200D\uD83D\uDCBB")),
                "an emoji sequence with its zero-width joiner is text");
        assertEquals("\"\\x00\\x7f\\xff\\xc3\"", Display.quote(new byte[] {0, 0x7f, (byte) 0xff, (byte) 0xc3}));
        assertEquals("\"\\xe2\\x80\\xae\"", Display.quote(utf8("\u202e")), "a bidi override is escaped, not obeyed");
        assertEquals("\"\\xed\\xa0\\x80\"", Display.quote(new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}),
                "an encoded surrogate is not UTF-8");
        assertEquals("\"\\xc0\\xaf\"", Display.quote(new byte[] {(byte) 0xc0, (byte) 0xaf}), "overlong form");
    }

    @Test
    void longValuesAreCutAtACharacterBoundaryWithTheirSize() {
        byte[] value = utf8("x".repeat(Display.MAX_SHOWN - 1) + "\u00e9tail");
        String shown = Display.quote(value);
        assertEquals("\"" + "x".repeat(Display.MAX_SHOWN - 1) + "\"... (" + value.length + " bytes)", shown);
        byte[] binary = new byte[Display.MAX_SHOWN + 1];
        assertTrue(Display.hex(binary).endsWith("... (" + binary.length + " bytes)"));
    }

    @Test
    void hexFormReadsBack() {
        byte[] value = {0, 1, (byte) 0xfe};
        assertEquals("0x0001fe", Display.hex(value));
        assertArrayEquals(value, readBack(Display.hex(value)));
        assertArrayEquals(new byte[0], readBack(Display.hex(new byte[0])), "empty is \"\", not a bare 0x");
    }

    @Test
    void aWordToTypeIsPlainQuotedOrHexAsTheBytesNeed() {
        assertEquals("user:1", Display.word(utf8("user:1"), ""));
        assertEquals("h\u00e9!", Display.word(utf8("h\u00e9!"), ""));
        for (String needsQuotes : List.of("two words", "--limit", "#tag", "0x41", "say \"hi\"", "tab\t", "")) {
            String word = Display.word(utf8(needsQuotes), "");
            assertTrue(word.startsWith("\""), word);
            assertArrayEquals(utf8(needsQuotes), readBack(word));
        }
        byte[] binary = {(byte) 0xff, 0, 'a'};
        assertEquals("0xff0061", Display.word(binary, ""));
        assertEquals("\"\\xff\\x00a\"", Display.word(binary, "\""), "in the style the typed word began with");
        assertEquals("0x75", Display.word(utf8("u"), "0x7"));
        assertArrayEquals(utf8("ab\n"), Tokenizer.prefixBytes("\"ab\\n\\x4"));
        assertArrayEquals(new byte[] {(byte) 0xab}, Tokenizer.prefixBytes("0xabc"));
        assertArrayEquals(utf8("a\\"), Tokenizer.prefixBytes("\"a\\\\\""), "an escaped backslash before the closing quote");
        assertTrue(Arrays.equals(utf8("ab"), Tokenizer.prefixBytes("ab")));
    }
}
