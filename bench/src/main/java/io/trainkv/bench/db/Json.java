package io.trainkv.bench.db;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Just enough JSON for the harness: writing flat objects of strings, numbers and booleans, and
 * reading them back (a child process reports its result as one such line). Nested output is
 * assembled by the caller from these objects.
 */
final class Json {

    private Json() {
    }

    /** One flat object; values are strings, numbers or booleans, in the map's order. */
    static String object(Map<String, ?> fields) {
        StringBuilder out = new StringBuilder("{");
        for (Map.Entry<String, ?> field : fields.entrySet()) {
            if (out.length() > 1) {
                out.append(',');
            }
            out.append(string(field.getKey())).append(':').append(value(field.getValue()));
        }
        return out.append('}').toString();
    }

    private static String value(Object value) {
        if (value instanceof String s) {
            return string(s);
        }
        if (value instanceof Double d && (d.isNaN() || d.isInfinite())) {
            return "null";
        }
        return String.valueOf(value);
    }

    static String string(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    /**
     * Parses one flat object written by {@link #object}. Strings come back unescaped; numbers and
     * booleans as their text; {@code null} as null.
     */
    static Map<String, String> parseObject(String text) {
        Reader in = new Reader(text.trim());
        Map<String, String> fields = new LinkedHashMap<>();
        in.expect('{');
        if (in.peek() == '}') {
            in.pos++;
            return fields;
        }
        do {
            String name = in.string();
            in.expect(':');
            fields.put(name, in.peek() == '"' ? in.string() : in.bare());
        } while (in.next() == ',');
        in.pos--;
        in.expect('}');
        return fields;
    }

    /** A cursor over the text being parsed. */
    private static final class Reader {
        final String text;
        int pos;

        Reader(String text) {
            this.text = text;
        }

        char peek() {
            if (pos >= text.length()) {
                throw new IllegalArgumentException("unexpected end of JSON: " + text);
            }
            return text.charAt(pos);
        }

        char next() {
            char c = peek();
            pos++;
            return c;
        }

        void expect(char c) {
            if (next() != c) {
                throw new IllegalArgumentException("expected '" + c + "' at " + (pos - 1) + " in " + text);
            }
        }

        String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            for (char c = next(); c != '"'; c = next()) {
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char escaped = next();
                switch (escaped) {
                    case 'n' -> out.append('\n');
                    case 'u' -> {
                        out.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                        pos += 4;
                    }
                    default -> out.append(escaped);
                }
            }
            return out.toString();
        }

        String bare() {
            int start = pos;
            while (pos < text.length() && ",}".indexOf(text.charAt(pos)) < 0) {
                pos++;
            }
            String token = text.substring(start, pos).trim();
            return token.equals("null") ? null : token;
        }
    }
}
