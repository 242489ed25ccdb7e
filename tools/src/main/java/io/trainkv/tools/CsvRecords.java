package io.trainkv.tools;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import org.apache.commons.csv.CSVException;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Records of an RFC 4180 CSV input, parsed by Apache Commons CSV, so that a quoted field may hold
 * commas, doubled quotes and line breaks. The input is decoded as strict UTF-8: bytes that are not
 * UTF-8, and a quoted field that never ends, stop the load even with {@code --skip-bad} (the
 * parser cannot find where the next record starts). A record with other than two fields is a bad
 * record the next call reads past.
 */
final class CsvRecords implements RecordSource {

    private final CountingStream counted;
    private final CSVParser parser;
    private final Iterator<CSVRecord> records;
    private long recordLine;
    private long linesRead;

    /**
     * Reads {@code in} in {@code format}.
     *
     * @throws IOException if the input cannot be read
     */
    CsvRecords(InputStream in, CSVFormat format) throws IOException {
        this.counted = new CountingStream(in);
        this.parser = CSVParser.parse(new InputStreamReader(counted, StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)), format);
        this.records = parser.iterator();
    }

    @Override
    public String[] next() throws IOException {
        CSVRecord record;
        try {
            if (!records.hasNext()) {
                return null;
            }
            record = records.next();
        } catch (UncheckedIOException e) {
            recordLine = parser.getCurrentLineNumber();
            linesRead = recordLine;
            if (e.getCause() instanceof CharacterCodingException) {
                throw new RecordSource.Unrecoverable(InputLines.NOT_UTF8);
            }
            if (e.getCause() instanceof CSVException) {
                throw new RecordSource.Unrecoverable("malformed CSV: " + e.getCause().getMessage());
            }
            throw e.getCause();
        }
        linesRead = parser.getCurrentLineNumber();
        long breaks = 0;
        for (String field : record) {
            breaks += lineBreaks(field);
        }
        recordLine = linesRead - breaks;
        if (recordLine == 1 && record.get(0).startsWith("\uFEFF")) {
            throw new IllegalArgumentException(InputLines.BYTE_ORDER_MARK);
        }
        if (record.size() != 2) {
            throw new IllegalArgumentException("expected KEY,VALUE (two fields), got " + record.size() + " field(s)");
        }
        return new String[] {record.get(0), record.get(1)};
    }

    /** Line breaks in a field as the parser counts lines: {@code \r\n}, {@code \n} or a lone {@code \r}. */
    private static long lineBreaks(String field) {
        long breaks = 0;
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\n' || (c == '\r' && (i + 1 == field.length() || field.charAt(i + 1) != '\n'))) {
                breaks++;
            }
        }
        return breaks;
    }

    @Override
    public long recordLine() {
        return recordLine;
    }

    @Override
    public long linesRead() {
        return linesRead;
    }

    @Override
    public long bytesRead() {
        return counted.count;
    }

    @Override
    public void close() throws IOException {
        parser.close();
    }

    /** Counts the bytes read through it, for the progress bar. */
    private static final class CountingStream extends FilterInputStream {
        private volatile long count;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }
}
