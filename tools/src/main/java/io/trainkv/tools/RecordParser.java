package io.trainkv.tools;

/** Parses one input line of {@code trainkv load} into a key and a value. */
final class RecordParser {

    private RecordParser() {
    }

    /**
     * {key, value} of one line.
     *
     * @throws IllegalArgumentException describing what is malformed
     */
    static String[] parse(LoadCommand.Format format, String line) {
        return switch (format) {
            case tsv -> tsv(line);
            case csv -> csv(line);
            case jsonl -> json(line);
        };
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
