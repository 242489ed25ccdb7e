package io.trainkv.tools;

import java.util.Locale;

/**
 * The line formats of {@code load} and {@code dump}: {@code key<TAB>value}, RFC 4180
 * {@code key,value} and JSON lines {@code {"key": "...", "value": "..."}}. One record per line, so
 * a field may not hold a line break except in JSON, which escapes it.
 */
enum RecordFormat {
    tsv {
        @Override
        String[] parse(String line) {
            return RecordFormat.tsv(line);
        }

        @Override
        String format(String key, String value) {
            requireOneLine(key, value);
            if (key.indexOf('\t') >= 0) {
                throw new IllegalArgumentException("the key holds a tab, which TSV cannot carry");
            }
            return key + '\t' + value;
        }
    },
    csv {
        @Override
        String[] parse(String line) {
            return RecordFormat.csv(line);
        }

        @Override
        String format(String key, String value) {
            requireOneLine(key, value);
            return csvField(key) + ',' + csvField(value);
        }
    },
    jsonl {
        @Override
        String[] parse(String line) {
            return RecordFormat.json(line);
        }

        @Override
        String format(String key, String value) {
            return "{\"key\":" + Json.quote(key) + ",\"value\":" + Json.quote(value) + "}";
        }
    };

    /**
     * {key, value} of one line.
     *
     * @throws IllegalArgumentException describing what is malformed
     */
    abstract String[] parse(String line);

    /**
     * The line (without its line break) that {@link #parse} reads back as {@code key}, {@code value}.
     *
     * @throws IllegalArgumentException if this format cannot carry them
     */
    abstract String format(String key, String value);

    /** The format a file name's extension suggests: .csv, .jsonl or .json, else TSV. */
    static RecordFormat forFileName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.endsWith(".csv")) {
            return csv;
        }
        if (lower.endsWith(".jsonl") || lower.endsWith(".json")) {
            return jsonl;
        }
        return tsv;
    }

    private static void requireOneLine(String key, String value) {
        if (key.indexOf('\n') >= 0 || key.indexOf('\r') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("a line break in a key or value, which only jsonl can carry");
        }
    }

    private static String csvField(String field) {
        if (field.indexOf(',') < 0 && field.indexOf('"') < 0) {
            return field;
        }
        return '"' + field.replace("\"", "\"\"") + '"';
    }

    private static String[] tsv(String line) {
        int tab = line.indexOf('\t');
        if (tab < 0) {
            throw new IllegalArgumentException("expected KEY<TAB>VALUE");
        }
        return new String[] {line.substring(0, tab), line.substring(tab + 1)};
    }

    /** Two RFC 4180 fields: plain, or double-quoted with "" for a quote. */
    private static String[] csv(String line) {
        String[] fields = new String[2];
        int i = 0;
        for (int field = 0; field < 2; field++) {
            StringBuilder value = new StringBuilder();
            if (i < line.length() && line.charAt(i) == '"') {
                i++;
                boolean closed = false;
                while (i < line.length()) {
                    char c = line.charAt(i++);
                    if (c == '"') {
                        if (i < line.length() && line.charAt(i) == '"') {
                            value.append('"');
                            i++;
                        } else {
                            closed = true;
                            break;
                        }
                    } else {
                        value.append(c);
                    }
                }
                if (!closed) {
                    throw new IllegalArgumentException("unterminated quoted field");
                }
            } else {
                while (i < line.length() && line.charAt(i) != ',') {
                    value.append(line.charAt(i++));
                }
            }
            fields[field] = value.toString();
            if (field == 0) {
                if (i >= line.length() || line.charAt(i) != ',') {
                    throw new IllegalArgumentException("expected KEY,VALUE");
                }
                i++;
            }
        }
        if (i != line.length()) {
            throw new IllegalArgumentException("more than two fields");
        }
        return fields;
    }

    /** An object with string members "key" and "value" (other members are ignored). */
    private static String[] json(String line) {
        JsonCursor in = new JsonCursor(line);
        String key = null;
        String value = null;
        in.expect('{');
        if (!in.peek('}')) {
            do {
                String name = in.string();
                in.expect(':');
                String member = in.string();
                if (name.equals("key")) {
                    key = member;
                } else if (name.equals("value")) {
                    value = member;
                }
            } while (in.consume(','));
        }
        in.expect('}');
        in.end();
        if (key == null || value == null) {
            throw new IllegalArgumentException("a line needs string members \"key\" and \"value\"");
        }
        return new String[] {key, value};
    }

    /** A minimal reader of JSON strings and punctuation. */
    private static final class JsonCursor {
        private final String text;
        private int at;

        JsonCursor(String text) {
            this.text = text;
        }

        void skipSpace() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
        }

        boolean peek(char c) {
            skipSpace();
            return at < text.length() && text.charAt(at) == c;
        }

        boolean consume(char c) {
            if (peek(c)) {
                at++;
                return true;
            }
            return false;
        }

        void expect(char c) {
            if (!consume(c)) {
                throw new IllegalArgumentException("expected '" + c + "' at column " + (at + 1));
            }
        }

        void end() {
            skipSpace();
            if (at != text.length()) {
                throw new IllegalArgumentException("unexpected text at column " + (at + 1));
            }
        }

        String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (at < text.length()) {
                char c = text.charAt(at++);
                if (c == '"') {
                    return out.toString();
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                if (at >= text.length()) {
                    break;
                }
                char e = text.charAt(at++);
                switch (e) {
                    case '"', '\\', '/' -> out.append(e);
                    case 'n' -> out.append('\n');
                    case 't' -> out.append('\t');
                    case 'r' -> out.append('\r');
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'u' -> {
                        if (at + 4 > text.length()) {
                            throw new IllegalArgumentException("bad \\u escape");
                        }
                        try {
                            out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw new IllegalArgumentException("bad \\u escape");
                        }
                        at += 4;
                    }
                    default -> throw new IllegalArgumentException("bad escape \\" + e);
                }
            }
            throw new IllegalArgumentException("unterminated string");
        }
    }
}
