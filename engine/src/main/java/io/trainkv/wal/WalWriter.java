package io.trainkv.wal;

import io.trainkv.storage.WritableFile;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

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

    /** Appends records produced by {@link WalBatchEncoder}. */
    public void append(ByteBuffer records) throws IOException {
        file.append(records);
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
