package io.trainkv.tools;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.Function;

/**
 * Records of a one-record-per-line format (TSV, JSON lines): each non-empty line of
 * {@link InputLines} parsed on its own, so a bad line is reported with its number and the next
 * line reads on.
 */
final class LineRecords implements RecordSource {

    private final InputLines lines;
    private final Function<String, String[]> parse;

    /** Reads {@code in}; {@code parse} turns a line into {key, value} or throws IllegalArgumentException. */
    LineRecords(InputStream in, Function<String, String[]> parse) {
        this.lines = new InputLines(in);
        this.parse = parse;
    }

    @Override
    public String[] next() throws IOException {
        String line;
        do {
            line = lines.next();
            if (line == null) {
                return null;
            }
        } while (line.isEmpty());
        return parse.apply(line);
    }

    @Override
    public long recordLine() {
        return lines.lineNumber();
    }

    @Override
    public long linesRead() {
        return lines.lineNumber();
    }

    @Override
    public long bytesRead() {
        return lines.bytesRead();
    }

    @Override
    public void close() throws IOException {
        lines.close();
    }
}
