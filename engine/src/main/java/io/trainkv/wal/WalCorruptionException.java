package io.trainkv.wal;

import java.io.IOException;

/** A WAL record that cannot be trusted, with the file and byte offset where it starts. */
public final class WalCorruptionException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String fileName;
    private final long offset;

    public WalCorruptionException(String fileName, long offset, String reason) {
        super(fileName + " at offset " + offset + ": " + reason);
        this.fileName = fileName;
        this.offset = offset;
    }

    public String fileName() {
        return fileName;
    }

    public long offset() {
        return offset;
    }
}
