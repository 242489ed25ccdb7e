package io.trainkv.tools;

import io.trainkv.Options;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The lines of a TSV or JSON-lines load file, split on {@code \n} (a {@code \r} before it is dropped) and decoded
 * as strict UTF-8 one line at a time, so that a line that is not UTF-8 is a bad line with its
 * number, as any other, rather than silently replaced characters or a failed load. Counts the
 * bytes read for the progress bar.
 */
final class InputLines implements AutoCloseable {

    /** The longest line that can hold a key and value the engine accepts, in any format and encoding. */
    private static final int MAX_LINE_BYTES = 6 * (Options.MAX_KEY_SIZE + Options.MAX_VALUE_SIZE) + 1024;

    /** Why a line or record that is not UTF-8 is refused. */
    static final String NOT_UTF8 = "not valid UTF-8 (use --encoding hex or base64 for binary data)";
    /** Why a first line starting with a byte order mark is refused. */
    static final String BYTE_ORDER_MARK = "the file starts with a UTF-8 byte order mark (EF BB BF); remove it, "
            + "keys are read exactly as written";

    private final InputStream in;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private byte[] line = new byte[256];
    private volatile long bytesRead;
    private long lineNumber;

    InputLines(InputStream in) {
        this.in = new BufferedInputStream(in, 1 << 16);
    }

    /**
     * The next line without its line break, or null at the end of the input.
     *
     * @throws IllegalArgumentException if the line is not valid UTF-8 (the next call reads on)
     */
    String next() throws IOException {
        int length = 0;
        long skipped = 0;
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (length == MAX_LINE_BYTES) {
                skipped++;
                continue;
            }
            if (length == line.length) {
                line = Arrays.copyOf(line, (int) Math.min(MAX_LINE_BYTES, 2L * length));
            }
            line[length++] = (byte) b;
        }
        if (b < 0 && length == 0) {
            return null;
        }
        bytesRead += length + skipped + (b < 0 ? 0 : 1);
        lineNumber++;
        if (skipped > 0) {
            throw new IllegalArgumentException("line of " + (length + skipped) + " bytes is longer than any key and "
                    + "value the engine accepts could be written");
        }
        if (length > 0 && line[length - 1] == '\r') {
            length--;
        }
        String text;
        try {
            text = utf8.decode(ByteBuffer.wrap(line, 0, length)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(NOT_UTF8);
        }
        if (lineNumber == 1 && text.startsWith("\uFEFF")) {
            throw new IllegalArgumentException(BYTE_ORDER_MARK);
        }
        return text;
    }

    /** The number of the line {@link #next} read last, from 1. */
    long lineNumber() {
        return lineNumber;
    }

    long bytesRead() {
        return bytesRead;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
