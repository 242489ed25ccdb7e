package io.trainkv;

/**
 * Data on disk failed a check (checksum, length, structure). The message names the file and the
 * byte offset where the problem starts, which {@link #fileName()} and {@link #offset()} also give.
 */
public class CorruptionException extends TrainKVException {
    private static final long serialVersionUID = 1L;

    private final String fileName;
    private final long offset;

    public CorruptionException(String fileName, long offset, String message) {
        this(fileName, offset, message, null);
    }

    public CorruptionException(String fileName, long offset, String message, Throwable cause) {
        super(message, cause);
        this.fileName = fileName;
        this.offset = offset;
    }

    /** The corrupted file's name inside the database directory. */
    public String fileName() {
        return fileName;
    }

    /** The byte offset in {@link #fileName()} where the bad data starts. */
    public long offset() {
        return offset;
    }
}
