package io.trainkv.shell;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Splits a shell line into words. A word is plain text (UTF-8), a double-quoted string with
 * escapes ({@code \" \\ \n \t \r \0 \xNN}), or a hex literal {@code 0x...} for binary keys and
 * values. Each word keeps its bytes and whether it was quoted (quoted words are never options).
 */
final class Tokenizer {

    /** One word of a command line. */
    record Word(String text, byte[] bytes, boolean quoted) {
        boolean isOption() {
            return !quoted && text.startsWith("--");
        }
    }

    private Tokenizer() {
    }

    /**
     * The words of {@code line}; a {@code #} outside quotes starts a comment.
     *
     * @throws IllegalArgumentException for an unterminated quote, a bad escape or bad hex
     */
    static List<Word> split(String line) {
        List<Word> words = new ArrayList<>();
        int i = 0;
        int n = line.length();
        while (i < n) {
            char c = line.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '#') {
                break;
            } else if (c == '"') {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                StringBuilder text = new StringBuilder();
                i++;
                boolean closed = false;
                while (i < n) {
                    char q = line.charAt(i++);
                    if (q == '"') {
                        closed = true;
                        break;
                    }
                    if (q == '\\') {
                        if (i >= n) {
                            throw new IllegalArgumentException("a backslash ends the line inside quotes");
                        }
                        char e = line.charAt(i++);
                        switch (e) {
                            case 'n' -> append(bytes, text, "\n");
                            case 't' -> append(bytes, text, "\t");
                            case 'r' -> append(bytes, text, "\r");
                            case '0' -> append(bytes, text, "\0");
                            case '\\', '"' -> append(bytes, text, String.valueOf(e));
                            case 'x' -> {
                                if (i + 2 > n) {
                                    throw new IllegalArgumentException("\\x needs two hex digits");
                                }
                                int b = parseHexByte(line.substring(i, i + 2));
                                i += 2;
                                bytes.write(b);
                                text.append(String.format("\\x%02x", b));
                            }
                            default -> throw new IllegalArgumentException("unknown escape \\" + e);
                        }
                    } else {
                        append(bytes, text, String.valueOf(q));
                    }
                }
                if (!closed) {
                    throw new IllegalArgumentException("unterminated quote");
                }
                words.add(new Word(text.toString(), bytes.toByteArray(), true));
            } else {
                int start = i;
                while (i < n && !Character.isWhitespace(line.charAt(i))) {
                    i++;
                }
                String text = line.substring(start, i);
                words.add(new Word(text, plainBytes(text), false));
            }
        }
        return words;
    }

    private static void append(ByteArrayOutputStream bytes, StringBuilder text, String s) {
        bytes.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        text.append(s);
    }

    private static byte[] plainBytes(String text) {
        if ((text.startsWith("0x") || text.startsWith("0X")) && text.length() > 2) {
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

    private static int parseHexByte(String digits) {
        try {
            return Integer.parseInt(digits, 16);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad hex escape \\x" + digits);
        }
    }
}
