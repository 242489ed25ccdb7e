package io.trainkv.tools;

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
 * The lines of a load file, split on {@code \n} (a {@code \r} before it is dropped) and decoded
 * as strict UTF-8 one line at a time, so that a line that is not UTF-8 is a bad line with its
 * number, as any other, rather than silently replaced characters or a failed load. Counts the
 * bytes read for the progress bar.
 */
final class InputLines implements AutoCloseable {

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
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (length == line.length) {
                line = Arrays.copyOf(line, length * 2);
            }
            line[length++] = (byte) b;
        }
        if (b < 0 && length == 0) {
            return null;
        }
        bytesRead += length + (b < 0 ? 0 : 1);
        lineNumber++;
        if (length > 0 && line[length - 1] == '\r') {
            length--;
        }
        try {
            return utf8.decode(ByteBuffer.wrap(line, 0, length)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not valid UTF-8 (use --encoding hex or base64 for binary data)");
        }
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
