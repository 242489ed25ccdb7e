package io.trainkv.shell;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The shell's one parser, for interactive and batch input alike: splits a line into words. A word
 * is plain text (UTF-8), a double-quoted string with escapes ({@code \" \\ \n \t \r \0 \xNN}), or a
 * hex literal {@code 0x...} for binary keys and values. It works on code points, so characters
 * outside the Basic Multilingual Plane (emoji) are stored as their 4 UTF-8 bytes. Each word keeps
 * its bytes and whether it was quoted (quoted words are never options). The line reader hands it
 * the line untouched and uses {@link #spans} for the word boundaries of completion.
 */
final class Tokenizer {

    /** One word of a command line. */
    record Word(String text, byte[] bytes, boolean quoted) {
        boolean isOption() {
            return !quoted && text.startsWith("--");
        }
    }

    /**
     * Where one word sits in a line: chars {@code [start, end)} of the line as typed; a quoted
     * word that is not {@code closed} runs to the end of the line.
     */
    record Span(int start, int end, boolean quoted, boolean closed) {
    }

    private Tokenizer() {
    }

    /**
     * The words of {@code line}; a {@code #} at the start of a word outside quotes starts a comment.
     *
     * @throws IllegalArgumentException for an unterminated quote, a bad escape or bad hex
     */
    static List<Word> split(String line) {
        List<Word> words = new ArrayList<>();
        for (Span span : spans(line)) {
            if (!span.quoted()) {
                String text = line.substring(span.start(), span.end());
                words.add(new Word(text, plainBytes(text), false));
            } else if (!span.closed()) {
                throw new IllegalArgumentException("unterminated quote");
            } else {
                StringBuilder text = new StringBuilder();
                byte[] bytes = unquote(line.substring(span.start() + 1, span.end() - 1), text, false);
                words.add(new Word(text.toString(), bytes, true));
            }
        }
        return words;
    }

    /** The word boundaries of {@code line} (never throws: an unterminated quote runs to the end). */
    static List<Span> spans(String line) {
        List<Span> spans = new ArrayList<>();
        int i = 0;
        int n = line.length();
        while (i < n) {
            int c = line.codePointAt(i);
            if (Character.isWhitespace(c)) {
                i += Character.charCount(c);
            } else if (c == '#') {
                break;
            } else if (c == '"') {
                int start = i++;
                boolean closed = false;
                while (i < n) {
                    char q = line.charAt(i++);
                    if (q == '"') {
                        closed = true;
                        break;
                    }
                    if (q == '\\' && i < n) {
                        i++;
                    }
                }
                spans.add(new Span(start, i, true, closed));
            } else {
                int start = i;
                while (i < n && !Character.isWhitespace(line.codePointAt(i))) {
                    i += Character.charCount(line.codePointAt(i));
                }
                spans.add(new Span(start, i, false, true));
            }
        }
        return spans;
    }

    /**
     * The bytes a word typed so far stands for, as far as it can be read: a quoted word without its
     * closing quote, a trailing incomplete escape or a hex literal's odd last digit is dropped.
     * Used to look keys up by prefix for completion.
     */
    static byte[] prefixBytes(String typed) {
        if (typed.startsWith("\"")) {
            Span span = spans(typed).get(0);
            return unquote(typed.substring(1, span.closed() ? span.end() - 1 : span.end()), new StringBuilder(), true);
        }
        if (isHexLiteral(typed)) {
            String hex = typed.substring(2);
            hex = hex.substring(0, hex.length() - hex.length() % 2);
            try {
                return HexFormat.of().parseHex(hex);
            } catch (IllegalArgumentException e) {
                return typed.getBytes(StandardCharsets.UTF_8);
            }
        }
        return typed.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Decodes the inside of a quoted word, one code point at a time, into UTF-8 bytes, and into
     * {@code text} (a {@code \xNN} escape stays written as such there).
     *
     * @param partial true to stop quietly at an incomplete or bad escape instead of throwing
     * @throws IllegalArgumentException for a bad escape unless {@code partial}
     */
    private static byte[] unquote(String body, StringBuilder text, boolean partial) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int i = 0;
        int n = body.length();
        while (i < n) {
            int q = body.codePointAt(i);
            i += Character.charCount(q);
            if (q != '\\') {
                append(bytes, text, q);
                continue;
            }
            if (i >= n) {
                if (partial) {
                    break;
                }
                throw new IllegalArgumentException("a backslash ends the line inside quotes");
            }
            int e = body.codePointAt(i);
            i += Character.charCount(e);
            switch (e) {
                case 'n' -> append(bytes, text, '\n');
                case 't' -> append(bytes, text, '\t');
                case 'r' -> append(bytes, text, '\r');
                case '0' -> append(bytes, text, 0);
                case '\\', '"' -> append(bytes, text, e);
                case 'x' -> {
                    Integer b = i + 2 <= n ? hexByte(body.substring(i, i + 2)) : null;
                    if (b == null) {
                        if (partial) {
                            return bytes.toByteArray();
                        }
                        throw new IllegalArgumentException("bad hex escape \\x"
                                + body.substring(i, Math.min(n, i + 2)) + " (\\x needs two hex digits)");
                    }
                    i += 2;
                    bytes.write(b);
                    text.append(String.format("\\x%02x", b));
                }
                default -> {
                    if (partial) {
                        return bytes.toByteArray();
                    }
                    throw new IllegalArgumentException("unknown escape \\" + Character.toString(e));
                }
            }
        }
        return bytes.toByteArray();
    }

    private static void append(ByteArrayOutputStream bytes, StringBuilder text, int codePoint) {
        String s = Character.toString(codePoint);
        bytes.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        text.append(s);
    }

    private static boolean isHexLiteral(String text) {
        return (text.startsWith("0x") || text.startsWith("0X")) && text.length() > 2;
    }

    private static byte[] plainBytes(String text) {
        if (isHexLiteral(text)) {
            String hex = text.substring(2);
            if (hex.length() % 2 != 0) {
                throw new IllegalArgumentException("hex literal " + text + " has an odd number of digits");
            }
            try {
                return HexFormat.of().parseHex(hex);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not a hex literal: " + text);
            }
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The byte two hex digits stand for, or null if they are not two hex digits. */
    private static Integer hexByte(String digits) {
        if (digits.length() != 2 || Character.digit(digits.charAt(0), 16) < 0 || Character.digit(digits.charAt(1), 16) < 0) {
            return null;
        }
        return Integer.parseInt(digits, 16);
    }
}
