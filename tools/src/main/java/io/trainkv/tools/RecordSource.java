package io.trainkv.tools;

import java.io.IOException;

/**
 * The records of a {@code load} input, one {key, value} pair at a time, whatever the format, with
 * the line numbers a person needs to find a bad record and the bytes read for the progress bar.
 */
interface RecordSource extends AutoCloseable {

    /**
     * The next record as {key, value}, or null at the end of the input. Empty lines are skipped.
     *
     * @throws IllegalArgumentException if the record is malformed, saying how; the next call reads
     *         on from the record after it
     * @throws Unrecoverable if the input is malformed so that no next record can be found
     * @throws IOException if the input cannot be read
     */
    String[] next() throws IOException;

    /** The line (from 1) on which the record {@link #next} read last starts. */
    long recordLine();

    /** The lines read so far: through the end of the record {@link #next} read last. */
    long linesRead();

    /** Bytes of the input read so far. */
    long bytesRead();

    @Override
    void close() throws IOException;

    /** Malformed input after which no record can be found: the load stops, even with --skip-bad. */
    final class Unrecoverable extends IllegalArgumentException {
        Unrecoverable(String message) {
            super(message);
        }
    }
}
