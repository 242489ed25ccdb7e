package io.trainkv.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import org.apache.commons.csv.CSVFormat;

/**
 * The record formats of {@code load} and {@code dump}: {@code key<TAB>value} lines, RFC 4180 CSV
 * {@code key,value} (Apache Commons CSV: a quoted field may hold commas, doubled quotes and line
 * breaks) and JSON lines {@code {"key": "...", "value": "..."}} (Jackson). A TSV field cannot hold
 * a line break or (the key) a tab; CSV and JSON lines carry any text.
 */
enum RecordFormat {
    tsv {
        @Override
        RecordSource open(InputStream in) {
            return new LineRecords(in, RecordFormat::tsv);
        }

        @Override
        String format(String key, String value) {
            if (key.indexOf('\n') >= 0 || key.indexOf('\r') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("a line break in a key or value, which TSV cannot carry");
            }
            if (key.indexOf('\t') >= 0) {
                throw new IllegalArgumentException("the key holds a tab, which TSV cannot carry");
            }
            return key + '\t' + value;
        }
    },
    csv {
        @Override
        RecordSource open(InputStream in) throws IOException {
            return new CsvRecords(in, CSV);
        }

        @Override
        String format(String key, String value) {
            return CSV.format(key, value);
        }
    },
    jsonl {
        @Override
        RecordSource open(InputStream in) {
            return new LineRecords(in, RecordFormat::json);
        }

        @Override
        String format(String key, String value) {
            return Json.write(Json.object("key", key, "value", value));
        }
    };

    /** RFC 4180, records ended by {@code \n} (either line end is read), empty lines skipped. */
    static final CSVFormat CSV = CSVFormat.RFC4180.builder().setRecordSeparator('\n').setIgnoreEmptyLines(true).get();

    /**
     * Reads the records of {@code in} in this format.
     *
     * @throws IOException if the input cannot be read
     */
    abstract RecordSource open(InputStream in) throws IOException;

    /**
     * The record (without a line break after it) that this format reads back as {@code key},
     * {@code value}.
     *
     * @throws IllegalArgumentException if this format cannot carry them
     */
    abstract String format(String key, String value);

    /** The format's name for a person: TSV, CSV or JSON lines. */
    String title() {
        return this == jsonl ? "JSON lines" : name().toUpperCase(Locale.ROOT);
    }

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

    private static String[] tsv(String line) {
        int tab = line.indexOf('\t');
        if (tab < 0) {
            throw new IllegalArgumentException("expected KEY<TAB>VALUE");
        }
        return new String[] {line.substring(0, tab), line.substring(tab + 1)};
    }

    /** An object with string members "key" and "value" (other members are ignored). */
    private static String[] json(String line) {
        JsonNode object;
        try {
            object = Json.parse(line);
        } catch (JsonProcessingException e) {
            String message = e.getOriginalMessage().lines().findFirst().orElse("");
            int source = message.indexOf(" (start marker at [Source");
            throw new IllegalArgumentException("not JSON: " + (source >= 0 ? message.substring(0, source) : message)
                    + (e.getLocation() != null ? " (column " + e.getLocation().getColumnNr() + ")" : ""));
        }
        if (!object.isObject()) {
            throw new IllegalArgumentException("expected a JSON object with \"key\" and \"value\", got " + Json.kind(object));
        }
        return new String[] {member(object, "key"), member(object, "value")};
    }

    private static String member(JsonNode object, String name) {
        JsonNode member = object.get(name);
        if (member == null) {
            throw new IllegalArgumentException("\"" + name + "\" is missing");
        }
        if (!member.isTextual()) {
            throw new IllegalArgumentException("\"" + name + "\" must be a string, got " + Json.kind(member));
        }
        return member.textValue();
    }
}
