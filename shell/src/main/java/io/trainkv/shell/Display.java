package io.trainkv.shell;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * How the shell prints keys and values, in the syntax {@link Tokenizer} reads, so that what is
 * printed can be pasted back as input and means the same bytes: printable UTF-8 as text, the usual
 * escapes {@code \n \t \r \\ \"}, and {@code \xNN} only for bytes that are not printable text
 * (invalid UTF-8, control and format characters). Long values are cut with their size shown.
 */
final class Display {

    /** Values longer than this many bytes are shown cut (at a character boundary). */
    static final int MAX_SHOWN = 200;

    private static final HexFormat HEX = HexFormat.of();

    private Display() {
    }

    /** {@code bytes} as a quoted string; over {@link #MAX_SHOWN} bytes cut, followed by the size. */
    static String quote(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length + 8).append('"');
        int shown = escape(bytes, MAX_SHOWN, out);
        out.append('"');
        if (shown < bytes.length) {
            out.append("... (").append(bytes.length).append(" bytes)");
        }
        return out.toString();
    }

    /**
     * {@code bytes} as a hex literal ({@code 0x...}), for binary data; over {@link #MAX_SHOWN}
     * bytes cut, followed by the size. The empty string is {@code ""} (a bare {@code 0x} is text).
     */
    static String hex(byte[] bytes) {
        if (bytes.length == 0) {
            return "\"\"";
        }
        if (bytes.length <= MAX_SHOWN) {
            return "0x" + HEX.formatHex(bytes);
        }
        return "0x" + HEX.formatHex(bytes, 0, MAX_SHOWN) + "... (" + bytes.length + " bytes)";
    }

    /**
     * The form to type {@code bytes} as one word, never cut (for completion), in the style a word
     * {@code typed} so far began with: a quoted string after a quote, a hex literal after
     * {@code 0x}; otherwise a plain word when the bytes are printable UTF-8 that cannot be taken for
     * an option, a comment, a hex literal or two words, a quoted string when they are other UTF-8,
     * and a hex literal when they are not UTF-8.
     */
    static String word(byte[] bytes, String typed) {
        if (typed.startsWith("\"")) {
            return quoted(bytes);
        }
        if (typed.length() > 2 && (typed.startsWith("0x") || typed.startsWith("0X")) && bytes.length > 0) {
            return "0x" + HEX.formatHex(bytes);
        }
        if (isPlain(bytes)) {
            return new String(bytes, StandardCharsets.UTF_8);
        }
        int i = 0;
        while (i < bytes.length) {
            long cp = Utf8.decode(bytes, i);
            if (cp < 0) {
                return "0x" + HEX.formatHex(bytes);
            }
            i += Utf8.length(cp);
        }
        return quoted(bytes);
    }

    private static String quoted(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length + 8).append('"');
        escape(bytes, Integer.MAX_VALUE, out);
        return out.append('"').toString();
    }

    private static boolean isPlain(byte[] bytes) {
        if (bytes.length == 0 || bytes[0] == '#' || (bytes.length > 1 && bytes[0] == '-' && bytes[1] == '-')
                || (bytes.length > 2 && bytes[0] == '0' && (bytes[1] == 'x' || bytes[1] == 'X'))) {
            return false;
        }
        int i = 0;
        while (i < bytes.length) {
            long cp = Utf8.decode(bytes, i);
            if (cp < 0 || cp == '"' || !printable((int) cp) || Character.isWhitespace((int) cp)
                    || Character.isSpaceChar((int) cp)) {
                return false;
            }
            i += Utf8.length(cp);
        }
        return true;
    }

    /**
     * Appends the escaped form of at most {@code limit} bytes of {@code bytes} (stopping before a
     * character that would cross the limit); returns how many bytes were shown.
     */
    private static int escape(byte[] bytes, int limit, StringBuilder out) {
        int i = 0;
        while (i < bytes.length) {
            long cp = Utf8.decode(bytes, i);
            int length = cp < 0 ? 1 : Utf8.length(cp);
            if (i + length > limit) {
                break;
            }
            if (cp < 0) {
                appendHex(out, bytes[i]);
            } else if (cp == '\n') {
                out.append("\\n");
            } else if (cp == '\t') {
                out.append("\\t");
            } else if (cp == '\r') {
                out.append("\\r");
            } else if (cp == '\\' || cp == '"') {
                out.append('\\').append((char) cp);
            } else if (printable((int) cp)) {
                out.appendCodePoint((int) cp);
            } else {
                for (int j = i; j < i + length; j++) {
                    appendHex(out, bytes[j]);
                }
            }
            i += length;
        }
        return i;
    }

    private static void appendHex(StringBuilder out, byte b) {
        out.append("\\x").append(HEX.toHexDigits(b));
    }

    /**
     * Whether a code point prints as itself: not a control, format (bar the zero-width joiner of
     * emoji sequences), separator other than space, private-use or unassigned character.
     */
    private static boolean printable(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED,
                    Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> false;
            case Character.FORMAT -> cp == 0x200d;
            default -> true;
        };
    }

    /** Strict UTF-8 decoding of one character (no overlong forms, no surrogates, at most U+10FFFF). */
    private static final class Utf8 {

        private Utf8() {
        }

        /** The code point starting at {@code bytes[i]}, or -1 if the bytes there are not valid UTF-8. */
        static long decode(byte[] bytes, int i) {
            int b0 = bytes[i] & 0xff;
            if (b0 < 0x80) {
                return b0;
            }
            int length;
            int cp;
            int min;
            if (b0 >= 0xc2 && b0 <= 0xdf) {
                length = 2;
                cp = b0 & 0x1f;
                min = 0x80;
            } else if (b0 >= 0xe0 && b0 <= 0xef) {
                length = 3;
                cp = b0 & 0x0f;
                min = 0x800;
            } else if (b0 >= 0xf0 && b0 <= 0xf4) {
                length = 4;
                cp = b0 & 0x07;
                min = 0x10000;
            } else {
                return -1;
            }
            if (i + length > bytes.length) {
                return -1;
            }
            for (int j = 1; j < length; j++) {
                int b = bytes[i + j] & 0xff;
                if ((b & 0xc0) != 0x80) {
                    return -1;
                }
                cp = (cp << 6) | (b & 0x3f);
            }
            if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
                return -1;
            }
            return cp;
        }

        /** Bytes the UTF-8 encoding of {@code cp} takes. */
        static int length(long cp) {
            return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        }
    }
}
