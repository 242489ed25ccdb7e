package io.trainkv.wal;

import io.trainkv.storage.WritableFile;
import java.io.Closeable;
import java.io.IOException;

/**
 * Appends encoded records to one WAL file. The caller serializes calls (the group-commit leader is
 * the only writer); {@link #sync()} makes every appended record durable.
 */
public final class WalWriter implements Closeable {

    private final WritableFile file;
    private final long number;
    private final String name;

    public WalWriter(WritableFile file, long number, String name) {
        this.file = file;
        this.number = number;
        this.name = name;
    }

    public long number() {
        return number;
    }

    public String name() {
        return name;
    }

    /**
     * Appends {@code length} bytes of encoded records from {@code array} at {@code offset}, copied
     * from the array into the file with no buffer around it.
     *
     * @throws IOException if the append fails; the log may then end in part of the records
     */
    public void append(byte[] array, int offset, int length) throws IOException {
        file.append(array, offset, length);
    }

    public void sync() throws IOException {
        file.sync();
    }

    public long size() throws IOException {
        return file.size();
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
