package io.trainkv.wal;

import io.trainkv.storage.EarlyWriteBack;
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
    /** Started by the write leader when the memtable is three quarters full; settled before each sync. */
    private final EarlyWriteBack earlyWriteBack;

    public WalWriter(WritableFile file, long number, String name) {
        this.file = file;
        this.earlyWriteBack = new EarlyWriteBack(file);
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

    /**
     * Starts writing the log back to disk on a background thread ({@link EarlyWriteBack}), unless
     * that was done before, so that the fsync at its rotation has less to write.
     */
    public void startEarlyWriteBack() {
        earlyWriteBack.start();
    }

    /**
     * Makes every appended record durable, after the early writeback if one runs.
     *
     * @throws IOException if the fsync or the early writeback failed (again at every later sync,
     *         for the writeback: see {@link EarlyWriteBack#settle()})
     */
    public void sync() throws IOException {
        earlyWriteBack.settle();
        file.sync();
    }

    public long size() throws IOException {
        return file.size();
    }

    /** Closes the file, after the early writeback if one runs; throws its failure after closing. */
    @Override
    public void close() throws IOException {
        try (WritableFile closing = file) {
            earlyWriteBack.settle();
        }
    }
}
